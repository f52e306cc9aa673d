package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat templates through the engine: message text never runs as template code, a template that
 * would render without bound fails that one request with a 400 while the engine keeps serving
 * (issue 8 items 6 and 7), and {@code strftime_now} reads the engine's clock.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatTemplateEngineTest {
    private static final String CHAT = "/v1/chat/completions";
    private static final String UNBOUNDED = "unbounded";
    private static final String DATED = "dated";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    /** Writes 99999 x 99999 characters: only the output limit stops it. */
    private static final String UNBOUNDED_TEMPLATE =
            "{% for m in messages %}{{ m.content }}{% endfor %}{% for i in range(99999) %}{{ 'x' * 99999 }}{% endfor %}";

    private Path demoFile;
    private LocalBackend backend;

    @BeforeAll
    void start(@TempDir Path dir) {
        demoFile = DemoModel.ensure(dir);
        Path unbounded = dir.resolve("unbounded.gguf");
        SyntheticModel.builder().chatTemplate(UNBOUNDED_TEMPLATE).build().write(unbounded);
        Path dated = dir.resolve("dated.gguf");
        // the refusal shows the date the template computed
        SyntheticModel.builder().chatTemplate("{{ raise_exception(strftime_now('%Y-%m-%d %H:%M')) }}").build()
                .write(dated);
        backend = LocalBackend.load(new BackendConfig(Map.of(DemoModel.NAME, demoFile, UNBOUNDED, unbounded,
                DATED, dated), 1, Map.of()), "cpu", path -> CpuExecutor.load(path, 1), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    /** Regression: a 90-byte line of nested loops in a message ran the server out of memory. */
    @Test
    void nestedLoopsInAMessageAreTokenizedAsTheText() throws Exception {
        String message = "{% for a in range(99999) %}{% for b in range(99999) %}{{ a * b }}{% endfor %}{% endfor %}";

        InferenceResult r = submit(Bodies.chat(DemoModel.NAME, message).put("max_tokens", 1));

        assertEquals(200, r.statusCode(), r.body());
        int[] expected;
        try (GgufFile f = GgufFile.open(demoFile)) {
            expected = Tokenizer.fromGguf(f).encode("<|user|>\n" + message + "\n<|assistant|>\n", true, true);
        }
        assertEquals(expected.length, Bodies.read(r.body()).at("/usage/prompt_tokens").asInt());
    }

    @Test
    void aTemplateThatRendersWithoutBoundFailsOnlyThatRequest() throws Exception {
        InferenceResult failed = submit(Bodies.chat(UNBOUNDED, "hi").put("max_tokens", 1));

        assertEquals(400, failed.statusCode(), failed.body());
        JsonNode error = Bodies.read(failed.body()).get("error");
        assertEquals("chat_template_error", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("chat template rendering stopped: the rendered text would be"
                + " longer than"), failed.body());
        assertEquals(200, submit(Bodies.chat(DemoModel.NAME, "hi").put("max_tokens", 1)).statusCode(),
                "the engine still serves");
        assertEquals(200, submit(Bodies.completion(UNBOUNDED, "hi", 1)).statusCode(),
                "the same model still serves completions");
    }

    @Test
    void strftimeNowReadsTheEnginesClockInLocalTime() throws Exception {
        String now = LocalDateTime.ofInstant(NOW, ZoneId.systemDefault())
                .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm"));

        InferenceResult r = submit(Bodies.chat(DATED, "hi").put("max_tokens", 1));

        assertEquals(400, r.statusCode(), r.body());
        assertTrue(Bodies.read(r.body()).at("/error/message").asText()
                .endsWith("chat template rejected the conversation: " + now), r.body());
    }

    private InferenceResult submit(JsonNode body) throws Exception {
        String url = body.has("messages") ? CHAT : "/v1/completions";
        InferenceRequest request = new InferenceRequest("req", url, body.get("model").asText(), Bodies.write(body));
        return backend.submit(List.of(request)).getFirst().get(60, TimeUnit.SECONDS);
    }
}
