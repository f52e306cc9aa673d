package io.batchllm.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpiRecordsTest {

    @Test
    void anErrorResultIsAnOpenAiErrorEnvelopeWithEveryKey() {
        InferenceResult r = InferenceResult.error(400, "invalid_request_error", null, "temperature",
                "temperature must be \"between\" 0 and 2\n\tgot\\ 3\u0001");
        assertEquals(400, r.statusCode());
        assertFalse(r.succeeded());
        assertEquals("{\"error\":{\"message\":\"temperature must be \\\"between\\\" 0 and 2\\n\\tgot\\\\ 3\\u0001\","
                + "\"type\":\"invalid_request_error\",\"param\":\"temperature\",\"code\":null}}", r.body());
        assertEquals(TokenUsage.ZERO, r.usage());
    }

    @Test
    void invalidRequestIsA400() {
        InferenceResult r = InferenceResult.invalidRequest("stream", "unsupported_value", "no streaming");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("\"code\":\"unsupported_value\""));
        assertTrue(r.body().contains("\"param\":\"stream\""));
    }

    @Test
    void resultsRefuseImpossibleStatuses() {
        assertThrows(IllegalArgumentException.class, () -> new InferenceResult(99, "{}", TokenUsage.ZERO));
        assertThrows(IllegalArgumentException.class, () -> InferenceResult.error(200, "t", null, null, "m"));
        assertTrue(InferenceResult.ok("{}", new TokenUsage(1, 2, 0)).succeeded());
    }

    @Test
    void tokenUsageAddsUpAndRefusesNegativeCounts() {
        TokenUsage u = new TokenUsage(3, 4, 1).plus(new TokenUsage(1, 1, 1));
        assertEquals(new TokenUsage(4, 5, 2), u);
        assertEquals(9, u.totalTokens());
        assertThrows(IllegalArgumentException.class, () -> new TokenUsage(-1, 0, 0));
    }

    @Test
    void outcomesKnowWhetherTheySucceeded() {
        assertTrue(new RequestOutcome("b", "c", 200, "{}", null, TokenUsage.ZERO).succeeded());
        assertFalse(new RequestOutcome("b", "c", 0, null, "batch_expired", TokenUsage.ZERO).succeeded());
        assertEquals("completed", new BatchOutcome("b", "completed", null, null, 1, 1, 0).status());
    }

    @Test
    void backendConfigIsAnImmutableSnapshot() {
        java.util.HashMap<String, Path> models = new java.util.HashMap<>(Map.of("m", Path.of("m.gguf")));
        BackendConfig c = new BackendConfig(models, 2, Map.of());
        models.put("other", Path.of("x"));
        assertEquals(1, c.models().size());
        assertThrows(IllegalArgumentException.class, () -> new BackendConfig(Map.of(), 0, Map.of()));
        assertTrue(Availability.available("cpu").available());
        assertFalse(Availability.unavailable("no GPU").available());
    }

    @Test
    void aBackendServesChatAndCompletionsByDefault() {
        InferenceBackend b = new InferenceBackend() {
            @Override
            public java.util.Set<String> models() {
                return java.util.Set.of("m");
            }

            @Override
            public java.util.List<java.util.concurrent.CompletableFuture<InferenceResult>> submit(
                    java.util.List<InferenceRequest> requests) {
                return java.util.List.of();
            }
        };
        assertEquals(java.util.Set.of("/v1/chat/completions", "/v1/completions"), b.endpoints());
        assertEquals(64, b.maxInFlight());
        assertThrows(NullPointerException.class, () -> new InferenceRequest(null, "/v1/completions", "m", "{}"));
    }
}
