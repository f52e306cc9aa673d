package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.InferenceResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sliding-window attention with the paged KV cache and prefix sharing, through {@link LocalEngine}, on a
 * Gemma 3 model (five layers with a window of 6, one global layer): requests whose common prefix is
 * far longer than the window answer the same, token and logprob, whether the prefix is shared, whether
 * prompts are chunked, and whether choices are preempted for lack of blocks and recomputed.
 */
class SlidingWindowCacheTest {
    private static final String MODEL = "gemma3-window";
    private static final int REQUESTS = 12;

    @TempDir
    static Path dir;
    private static Path file;

    @BeforeAll
    static void writeModel() {
        file = dir.resolve("gemma3.gguf");
        SyntheticModel.builder().architecture("gemma3").dim(256).heads(2).kvHeads(1).headDim(128).ffnHidden(256)
                .layers(6).vocabSize(300).contextLength(256).slidingWindow(6).ropeFreqBase(1e6f).tiedOutput(false)
                .outputStd(0.3f).seed(3).build().write(file);
    }

    /** BOS, a 37-token prefix shared by all (two blocks of 16 and a part), then 5 tokens of its own. */
    private static ObjectNode request(int i) {
        ObjectNode body = Bodies.greedy(MODEL, "", 10).put("logprobs", 2);
        ArrayNode prompt = body.putArray("prompt");
        prompt.add(1);
        for (int t = 0; t < 37; t++) {
            prompt.add(3 + (t * 7) % 290);
        }
        for (int t = 0; t < 5; t++) {
            prompt.add(3 + (i * 31 + t * 13) % 290);
        }
        if (i % 3 == 1) {
            body.put("temperature", 0.8).put("seed", i);
        }
        return body;
    }

    /** The responses in request order, and how many choices were preempted. */
    private record Run(List<InferenceResult> results, long preemptions) {
    }

    private static Run run(EngineLimits limits, boolean oneAtATime) throws Exception {
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(file)) {
            tokenizer = Tokenizer.fromGguf(f);
        }
        try (LocalEngine engine = LocalEngine.builder(MODEL, CpuExecutor.load(file, 2), tokenizer).limits(limits)
                .start()) {
            List<InferenceResult> results = new ArrayList<>();
            List<CompletableFuture<InferenceResult>> pending = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                CompletableFuture<InferenceResult> f = engine.submit(Endpoint.COMPLETIONS, Bodies.write(request(i)));
                if (oneAtATime) {
                    results.add(f.get(120, TimeUnit.SECONDS));
                } else {
                    pending.add(f);
                }
            }
            for (CompletableFuture<InferenceResult> f : pending) {
                results.add(f.get(120, TimeUnit.SECONDS));
            }
            return new Run(results, engine.preemptions());
        }
    }

    private static List<JsonNode> choices(List<InferenceResult> results) {
        return results.stream().map(r -> {
            assertEquals(200, r.statusCode(), r.body());
            return Bodies.read(r.body()).at("/choices/0");
        }).toList();
    }

    @Test
    void aSharedPrefixLongerThanTheWindowChunkingAndPreemptionChangeNothing() throws Exception {
        List<InferenceResult> alone = run(EngineLimits.of(1, 512).withPrefixSharing(false), true).results();
        List<InferenceResult> shared = run(EngineLimits.of(REQUESTS, 7), false).results();
        // 9 blocks of 16: a few choices at a time, the youngest preempted as the others grow
        Run scarce = run(EngineLimits.of(REQUESTS, 512).withKvCache(9 * 16, 16), false);
        assertTrue(scarce.preemptions() > 0, "the scarce cache preempted choices");
        assertEquals(choices(alone), choices(shared));
        assertEquals(choices(alone), choices(scarce.results()));
        long cached = shared.stream().mapToLong(r -> r.usage().cachedPromptTokens()).sum();
        assertTrue(cached >= (REQUESTS - 1) * 32L, "the prefix's two full blocks were shared, cached " + cached);
        assertTrue(choices(alone).stream().map(c -> c.get("text").asText()).distinct().count() > 1,
                "the requests differ after their prefix");
    }
}
