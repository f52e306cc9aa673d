package io.batchllm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.BatchException;
import io.batchllm.Endpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The endpoint of a batch input file, read from the {@code url} of its first non-blank line. Only that
 * line is read here: the service's validation then checks that every line has the same {@code url}
 * (and reports each one that differs with its line number).
 */
final class InputEndpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private InputEndpoint() {
    }

    /** @throws UsageException the file has no requests, or its first request has no usable {@code url} */
    static Endpoint of(Path input) {
        try (BufferedReader r = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
            long lineNo = 0;
            String line;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (!line.isBlank()) {
                    return fromLine(input, lineNo, line);
                }
            }
            throw new UsageException(input + " has no requests: every line is blank. Each line must be one JSON "
                    + "request such as {\"custom_id\": \"1\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {...}}");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new UsageException(input + " is not UTF-8 text; batch input must be UTF-8 JSON lines", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + input + ": " + e.getMessage(), e);
        }
    }

    private static Endpoint fromLine(Path input, long lineNo, String line) {
        JsonNode request;
        try {
            request = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new UsageException(input + " line " + lineNo + " is not valid JSON, so the batch endpoint cannot be "
                    + "read from its \"url\": " + e.getOriginalMessage());
        }
        JsonNode url = request.path("url");
        if (!url.isTextual()) {
            throw new UsageException(input + " line " + lineNo + " has no \"url\" string; every line needs one, such as "
                    + "\"url\": \"/v1/chat/completions\"");
        }
        try {
            return Endpoint.fromPath(url.asText());
        } catch (BatchException e) {
            throw new UsageException(input + " line " + lineNo + ": " + e.getMessage());
        }
    }
}
