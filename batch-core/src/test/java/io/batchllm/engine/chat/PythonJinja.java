package io.batchllm.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the reference renderer, {@code src/test/python/render_chat_templates.py} (Python's jinja2
 * configured as Hugging Face does), over a batch of cases and returns its results in order.
 */
public final class PythonJinja {
    public static final ObjectMapper JSON = new ObjectMapper();
    /** The fixed time both sides give {@code strftime_now} (naive local time, as HF's datetime.now()). */
    public static final String NOW = "2024-07-26T23:30:05";
    private static final Path SCRIPT = Path.of("src/test/python/render_chat_templates.py");
    private static final long TIMEOUT_MINUTES = 5;

    /** One rendering by jinja2: the text, or the exception's message and class name. */
    public record Result(String text, String error, String type) {
        public boolean failed() {
            return error != null;
        }
    }

    private PythonJinja() {
    }

    public static ObjectNode request(Map<String, String> templates) {
        ObjectNode request = JSON.createObjectNode();
        request.put("now", NOW);
        ObjectNode sources = request.putObject("templates");
        templates.forEach(sources::put);
        request.putArray("cases");
        return request;
    }

    public static List<Result> run(ObjectNode request) {
        try {
            Path input = Files.createTempFile("chat-template-cases", ".json");
            Path output = Files.createTempFile("chat-template-results", ".json");
            try {
                JSON.writeValue(input.toFile(), request);
                Process process = new ProcessBuilder("python3", SCRIPT.toString(), input.toString())
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .redirectOutput(output.toFile())
                        .start();
                if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("the reference renderer did not finish in " + TIMEOUT_MINUTES
                            + " minutes");
                }
                if (process.exitValue() != 0) {
                    throw new IllegalStateException("the reference renderer (python3 " + SCRIPT + ") failed with exit"
                            + " code " + process.exitValue() + "; it needs python3 with jinja2 3.1 (pip install"
                            + " jinja2)");
                }
                ArrayNode results = (ArrayNode) JSON.readTree(Files.readString(output, StandardCharsets.UTF_8));
                List<Result> list = new ArrayList<>(results.size());
                for (JsonNode r : results) {
                    list.add(r.has("text") ? new Result(r.get("text").textValue(), null, null)
                            : new Result(null, r.get("error").textValue(), r.get("type").textValue()));
                }
                return list;
            } finally {
                Files.deleteIfExists(input);
                Files.deleteIfExists(output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the reference renderer python3 " + SCRIPT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the reference renderer", e);
        }
    }
}
