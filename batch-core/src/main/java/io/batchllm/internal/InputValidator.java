package io.batchllm.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.batchllm.BatchError;
import io.batchllm.spi.InferenceResult;
import io.batchllm.store.JobStore.RequestLoader;
import io.batchllm.store.RequestRow;
import io.batchllm.store.StoredResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Validates a batch input file in one streaming pass (I1–I5) and hands each good line to a
 * {@link RequestLoader}. Memory is bounded by the longest line plus the set of {@code custom_id}s:
 * the file is never held whole.
 *
 * <p>File-level problems (unparseable JSON, duplicate ids, wrong url or method, a second model, too
 * many lines, an empty or oversized file) fail the whole batch with 1-based line numbers. Problems
 * confined to one request's body ({@code stream: true}, a body that is not an object or has no model)
 * fail only that line: it is stored as finished with a 400 and lands in the error file.
 */
public final class InputValidator {

    /** Errors reported per failed batch; the rest are counted in the last message. */
    public static final int MAX_REPORTED_ERRORS = 100;
    /** The longest custom_id accepted. */
    public static final int MAX_CUSTOM_ID_LENGTH = 4096;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build())
            .build();

    /** OpenAI's limit on embedding inputs across all lines of one batch (I4). */
    public static final long MAX_EMBEDDING_INPUTS = 50_000;

    private final String endpoint;
    private final boolean embeddings;
    private final ValidationLimits limits;
    private final Set<String> servedModels;

    /**
     * @param endpoint the batch's endpoint; every line's url must equal it
     * @param limits size limits
     * @param servedModels models some backend serves; a batch for any other model fails validation
     */
    public InputValidator(String endpoint, ValidationLimits limits, Set<String> servedModels) {
        this.endpoint = endpoint;
        this.embeddings = endpoint.equals("/v1/embeddings");
        this.limits = limits;
        this.servedModels = servedModels;
    }

    /**
     * The outcome: the batch's model, or the errors that fail it. A valid batch whose every line failed
     * on its own (no usable body) names no model: {@code model} is null, as the Batch object shows it.
     */
    public record Outcome(String model, List<BatchError> errors) {
        public boolean ok() {
            return errors.isEmpty();
        }
    }

    /** Validates {@code file}, adding rows to {@code loader} while it is still valid. */
    public Outcome validate(Path file, RequestLoader loader) {
        try {
            long size = Files.size(file);
            if (size > limits.maxFileBytes()) {
                return failed(new BatchError("file_too_large", "The input file has " + size + " bytes; the limit is "
                        + limits.maxFileBytes() + " bytes. Split it into smaller batches.", null, null));
            }
            try (InputStream in = Files.newInputStream(file)) {
                return scan(in, loader);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the input file: " + e.getMessage(), e);
        }
    }

    private static Outcome failed(BatchError e) {
        return new Outcome(null, List.of(e));
    }

    private Outcome scan(InputStream in, RequestLoader loader) throws IOException {
        List<BatchError> errors = new ArrayList<>();
        int extraErrors = 0;
        Set<String> customIds = new HashSet<>();
        String model = null;
        long modelLine = 0;
        int requests = 0;
        long embeddingInputs = 0;
        LineReader lines = new LineReader(in, limits.maxLineBytes());
        while (lines.next()) {
            long lineNo = lines.lineNumber();
            if (lines.tooLong()) {
                errors.add(new BatchError("line_too_long", "This line is longer than " + limits.maxLineBytes()
                        + " bytes.", null, lineNo));
                continue;
            }
            if (lines.isBlank()) {
                continue;
            }
            requests++;
            if (requests > limits.maxRequests()) {
                errors.add(new BatchError("too_many_tasks", "The input file has more than " + limits.maxRequests()
                        + " requests; the limit is " + limits.maxRequests() + " per batch. Split it into smaller batches.",
                        null, lineNo));
                break;
            }
            ParsedLine line = parse(lines.buffer(), lines.length(), lineNo);
            BatchError problem = line.fileError;
            if (problem == null && !customIds.add(line.customId)) {
                problem = new BatchError("duplicate_custom_id", "The custom_id '" + line.customId
                        + "' appears more than once; each line needs a unique custom_id.", "custom_id", lineNo);
            }
            if (problem == null && line.model != null) {
                if (model == null) {
                    model = line.model;
                    modelLine = lineNo;
                    if (!servedModels.contains(model)) {
                        problem = new BatchError("model_not_found", "The model '" + model + "' is not served here. "
                                + "Available models: " + String.join(", ", servedModels.stream().sorted().toList()) + ".",
                                "body.model", lineNo);
                    }
                } else if (!model.equals(line.model)) {
                    problem = new BatchError("model_mismatch", "This line uses model '" + line.model + "' but line "
                            + modelLine + " uses '" + model + "'; a batch may use only one model.", "body.model", lineNo);
                }
            }
            if (problem != null) {
                if (errors.size() < MAX_REPORTED_ERRORS) {
                    errors.add(problem);
                } else {
                    extraErrors++;
                }
                continue;
            }
            embeddingInputs += line.embeddingInputs;
            if (embeddingInputs > MAX_EMBEDDING_INPUTS) {
                errors.add(new BatchError("too_many_tasks", "The batch has more than " + MAX_EMBEDDING_INPUTS
                        + " embedding inputs across its lines; split it into smaller batches.", "body.input", lineNo));
                break;
            }
            if (errors.isEmpty()) {
                long base = lines.startOffset();
                loader.add(new RequestRow((int) lineNo, line.customId, base + line.bodyStart,
                        (int) (line.bodyEnd - line.bodyStart), line.lineFailure));
            }
        }
        if (errors.isEmpty() && requests == 0) {
            errors.add(new BatchError("empty_file", "The input file has no requests.", null, null));
        }
        if (extraErrors > 0) {
            errors.add(new BatchError("too_many_errors", extraErrors + " more errors were found and not listed.", null, null));
        }
        return errors.isEmpty() ? new Outcome(model, List.of()) : new Outcome(null, List.copyOf(errors));
    }

    /** What one line says; exactly one of fileError / (customId, body) is meaningful. */
    private static final class ParsedLine {
        BatchError fileError;
        String customId;
        String model;
        long bodyStart;
        long bodyEnd;
        StoredResult lineFailure;
        /** Embedding inputs in the body ({@code input}), counted for the per-batch limit (I4). */
        long embeddingInputs;
    }

    /**
     * How many embedding inputs an {@code input} value holds: a string or a token array is one, an
     * array of strings or of token arrays is one per element. Leaves the parser after the value.
     */
    private static long countInputs(JsonParser p, JsonToken value) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            p.skipChildren();
            return 1;
        }
        JsonToken first = p.nextToken();
        if (first == JsonToken.END_ARRAY) {
            return 0;
        }
        if (first == JsonToken.VALUE_NUMBER_INT) {
            p.skipChildren();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                p.skipChildren();
            }
            return 1;
        }
        long n = 0;
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            p.skipChildren();
            n++;
        }
        return n;
    }

    private ParsedLine parse(byte[] buf, int len, long lineNo) {
        ParsedLine out = new ParsedLine();
        String method = null;
        String url = null;
        boolean sawBody = false;
        boolean bodyIsObject = false;
        boolean stream = false;
        String bodyModelError = null;
        try (JsonParser p = JSON.createParser(buf, 0, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                out.fileError = invalidJson(lineNo, "a line must be a JSON object");
                return out;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                switch (name) {
                    case "custom_id" -> {
                        if (v != JsonToken.VALUE_STRING) {
                            out.fileError = field(lineNo, "invalid_custom_id", "custom_id", "custom_id must be a string.");
                            return out;
                        }
                        out.customId = p.getText();
                    }
                    case "method" -> method = v == JsonToken.VALUE_STRING ? p.getText() : "";
                    case "url" -> url = v == JsonToken.VALUE_STRING ? p.getText() : "";
                    case "body" -> {
                        sawBody = true;
                        if (v == JsonToken.START_OBJECT) {
                            bodyIsObject = true;
                            out.bodyStart = p.currentTokenLocation().getByteOffset();
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String f = p.currentName();
                                JsonToken fv = p.nextToken();
                                if (f.equals("model")) {
                                    if (fv == JsonToken.VALUE_STRING && !p.getText().isBlank()) {
                                        out.model = p.getText();
                                    } else {
                                        bodyModelError = "model must be a non-empty string.";
                                    }
                                } else if (f.equals("stream") && fv == JsonToken.VALUE_TRUE) {
                                    stream = true;
                                } else if (f.equals("input") && embeddings) {
                                    out.embeddingInputs = countInputs(p, fv);
                                    continue; // countInputs consumed the value
                                }
                                p.skipChildren();
                            }
                            out.bodyEnd = p.currentLocation().getByteOffset();
                        } else {
                            p.skipChildren();
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                out.fileError = invalidJson(lineNo, "unexpected content after the JSON object");
                return out;
            }
        } catch (IOException e) {
            out.fileError = invalidJson(lineNo, null);
            return out;
        }
        if (out.customId == null) {
            out.fileError = field(lineNo, "missing_required_parameter", "custom_id", "Missing required parameter: 'custom_id'.");
        } else if (out.customId.isEmpty() || out.customId.length() > MAX_CUSTOM_ID_LENGTH) {
            out.fileError = field(lineNo, "invalid_custom_id", "custom_id",
                    "custom_id must be 1 to " + MAX_CUSTOM_ID_LENGTH + " characters long.");
        } else if (method == null) {
            out.fileError = field(lineNo, "missing_required_parameter", "method", "Missing required parameter: 'method'.");
        } else if (!method.equals("POST")) {
            out.fileError = field(lineNo, "invalid_method", "method", "method must be 'POST', got '" + method + "'.");
        } else if (url == null) {
            out.fileError = field(lineNo, "missing_required_parameter", "url", "Missing required parameter: 'url'.");
        } else if (!url.equals(endpoint)) {
            out.fileError = field(lineNo, "url_mismatch", "url", "The url '" + url
                    + "' does not match the batch's endpoint '" + endpoint + "'.");
        } else if (!sawBody || !bodyIsObject) {
            out.model = null;
            out.lineFailure = lineError("body", "invalid_body", "body must be a JSON object holding the request.");
        } else if (bodyModelError != null || out.model == null) {
            out.model = null;
            out.lineFailure = lineError("model", "missing_required_parameter",
                    bodyModelError != null ? bodyModelError : "Missing required parameter: 'model'.");
        } else if (stream) {
            out.lineFailure = lineError("stream", "unsupported_value", "stream is not supported in batch requests; "
                    + "remove it or set it to false.");
        }
        return out;
    }

    private static StoredResult lineError(String param, String code, String message) {
        InferenceResult r = InferenceResult.invalidRequest(param, code, message);
        return StoredResult.response(r.statusCode(), r.body(), r.usage());
    }

    private static BatchError invalidJson(long lineNo, String detail) {
        return new BatchError("invalid_json_line", "This line is not parseable as valid JSON."
                + (detail == null ? "" : " (" + detail + ")"), null, lineNo);
    }

    private static BatchError field(long lineNo, String code, String param, String message) {
        return new BatchError(code, message, param, lineNo);
    }

    /** Splits a stream into lines, tracking each line's byte offset; reuses its buffers. */
    static final class LineReader {
        private final InputStream in;
        private final int maxLine;
        private final byte[] chunk = new byte[1 << 16];
        private int chunkLen;
        private int chunkPos;
        private byte[] buf = new byte[8192];
        private int len;
        private long lineNumber;
        private long start;
        private long position;
        private boolean tooLong;

        LineReader(InputStream in, int maxLine) {
            this.in = in;
            this.maxLine = maxLine;
        }

        /** Reads the next line into {@link #buffer()}; false at the end of the stream. */
        boolean next() throws IOException {
            len = 0;
            tooLong = false;
            start = position;
            boolean any = false;
            while (true) {
                if (chunkPos == chunkLen) {
                    chunkLen = in.read(chunk);
                    chunkPos = 0;
                    if (chunkLen <= 0) {
                        chunkLen = 0;
                        break;
                    }
                }
                any = true;
                int from = chunkPos;
                int nl = -1;
                for (int i = from; i < chunkLen; i++) {
                    if (chunk[i] == '\n') {
                        nl = i;
                        break;
                    }
                }
                int end = nl < 0 ? chunkLen : nl;
                append(from, end - from);
                position += end - from;
                chunkPos = end;
                if (nl >= 0) {
                    chunkPos++;
                    position++;
                    break;
                }
            }
            if (!any) {
                return false;
            }
            lineNumber++;
            if (len > 0 && buf[len - 1] == '\r') {
                len--;
            }
            return true;
        }

        private void append(int from, int n) {
            int room = maxLine - len;
            if (n > room) {
                tooLong = true;
                n = room;
            }
            if (len + n > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.min(maxLine, Math.max(len + n, buf.length * 2)));
            }
            System.arraycopy(chunk, from, buf, len, n);
            len += n;
        }

        byte[] buffer() {
            return buf;
        }

        int length() {
            return len;
        }

        long lineNumber() {
            return lineNumber;
        }

        long startOffset() {
            return start;
        }

        boolean tooLong() {
            return tooLong;
        }

        boolean isBlank() {
            for (int i = 0; i < len; i++) {
                byte c = buf[i];
                if (c != ' ' && c != '\t' && c != '\r') {
                    return false;
                }
            }
            return true;
        }
    }
}
