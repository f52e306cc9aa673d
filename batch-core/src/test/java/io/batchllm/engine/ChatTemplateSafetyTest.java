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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 items 6 and 7 through the engine: message text never runs as template code, and a chat
 * template that would render without bound fails that one request with a 400 while the engine
 * keeps serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatTemplateSafetyTest {
    private static final String CHAT = "/v1/chat/completions";
    private static final String UNBOUNDED = "unbounded";
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
        backend = LocalBackend.load(new BackendConfig(Map.of(DemoModel.NAME, demoFile, UNBOUNDED, unbounded), 1,
                Map.of()), "cpu", path -> CpuExecutor.load(path, 1), Clock.systemUTC());
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

    private InferenceResult submit(JsonNode body) throws Exception {
        String url = body.has("messages") ? CHAT : "/v1/completions";
        InferenceRequest request = new InferenceRequest("req", url, body.get("model").asText(), Bodies.write(body));
        return backend.submit(List.of(request)).getFirst().get(60, TimeUnit.SECONDS);
    }
}
