package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.kv.KvCacheStats;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.InferenceResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The scheduler and the paged KV cache through {@link LocalEngine} on stories260K (context 2048): a
 * request's tokens do not depend on its company, on how its prompt is chunked, on a shared prefix, or
 * on waiting for KV blocks; and a shared prefix is computed and stored once.
 */
class ContinuousBatchingTest {
    private static final String MODEL = "stories";
    private static final int BLOCK = KvBlockPool.DEFAULT_BLOCK_SIZE;

    /** Responses in request order (results and their bodies), and the cache's counters after them. */
    private record Run(List<InferenceResult> results, List<JsonNode> bodies, KvCacheStats stats, KvLayout layout) {
        List<String> texts() {
            return bodies.stream().map(b -> b.at("/choices/0/text").asText()).toList();
        }
    }

    private static Run together(EngineLimits limits, List<ObjectNode> requests) throws Exception {
        try (LocalEngine engine = engine(limits)) {
            List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
            for (ObjectNode r : requests) {
                futures.add(engine.submit(Endpoint.COMPLETIONS, Bodies.write(r)));
            }
            List<InferenceResult> results = new ArrayList<>();
            for (CompletableFuture<InferenceResult> f : futures) {
                results.add(f.get(120, TimeUnit.SECONDS));
            }
            return run(engine, results);
        }
    }

    /** Each request alone: submitted only when the one before has finished. */
    private static Run alone(EngineLimits limits, List<ObjectNode> requests) throws Exception {
        try (LocalEngine engine = engine(limits)) {
            List<InferenceResult> results = new ArrayList<>();
            for (ObjectNode r : requests) {
                results.add(engine.submit(Endpoint.COMPLETIONS, Bodies.write(r)).get(60, TimeUnit.SECONDS));
            }
            return run(engine, results);
        }
    }

    private static Run run(LocalEngine engine, List<InferenceResult> results) {
        return new Run(results, results.stream().map(ContinuousBatchingTest::ok).toList(), engine.kvCacheStats(),
                engine.kvLayout());
    }

    private static LocalEngine engine(EngineLimits limits) {
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(StoriesReference.MODEL)) {
            tokenizer = Tokenizer.fromGguf(f);
        }
        return LocalEngine.builder(MODEL, CpuExecutor.load(StoriesReference.MODEL, 2), tokenizer).limits(limits).start();
    }

    private static JsonNode ok(InferenceResult result) {
        assertEquals(200, result.statusCode(), result.body());
        return Bodies.read(result.body());
    }

    /** 64 requests: the four reference prompts, greedy and with 8 different seeds. */
    private static List<ObjectNode> mixedRequests() {
        List<StoriesReference> refs = StoriesReference.all();
        List<ObjectNode> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            StoriesReference ref = refs.get(i % refs.size());
            ObjectNode body = Bodies.greedy(MODEL, ref.prompt(), StoriesReference.OUTPUT_TOKENS);
            if (i % 2 == 1) {
                body.put("temperature", 0.9).put("seed", 1000 + i / 8);
            }
            out.add(body);
        }
        return out;
    }

    @Test
    void aRequestGetsTheSameTokensAloneAndAmong63OthersGreedyAndSeeded() throws Exception {
        List<ObjectNode> requests = mixedRequests();
        Run alone = alone(EngineLimits.of(1, EngineLimits.DEFAULT_MAX_STEP_TOKENS).withPrefixSharing(false), requests);
        // 64 at once, in steps of at most 40 tokens: prompts are chunked beside the decodes
        Run together = together(EngineLimits.of(64, 40), requests);
        assertEquals(alone.texts(), together.texts());
        List<StoriesReference> refs = StoriesReference.all();
        for (int i = 0; i < 64; i += 2) {
            assertEquals(refs.get(i % refs.size()).outputText(), together.texts().get(i), "greedy = llama.cpp's output");
        }
        assertTrue(together.texts().stream().distinct().count() > 4, "the seeded requests really sampled");
    }

    /** A prompt of BOS, a 499-token "system prompt" shared by all, and 20 tokens of its own. */
    private static ObjectNode sharedPrefixRequest(int i) {
        ObjectNode body = Bodies.greedy(MODEL, "", 16);
        ArrayNode prompt = body.putArray("prompt");
        prompt.add(1);
        for (int t = 0; t < 499; t++) {
            prompt.add(3 + (t * 7) % 500);
        }
        for (int t = 0; t < 20; t++) {
            prompt.add(3 + (i * 31 + t * 13) % 500);
        }
        if (i % 2 == 1) {
            body.put("temperature", 0.7).put("seed", i);
        }
        return body;
    }

    @Test
    void sixtyFourRequestsWithACommon500TokenPrefixStoreItOnceAndAnswerAsWithoutSharing() throws Exception {
        List<ObjectNode> requests = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            requests.add(sharedPrefixRequest(i));
        }
        Run shared = together(EngineLimits.of(64, 512), requests);
        // without sharing, and with small chunks (37 tokens) on top
                Run unshared = together(EngineLimits.of(64, 37).withPrefixSharing(false), requests);
        assertEquals(unshared.texts(), shared.texts());

        int prompt = 520;
        int perRequest = KvLayout.blocksFor(prompt + 16 - 1, BLOCK); // 34: prompt + 15 fed-back tokens
        int prefixBlocks = 500 / BLOCK;                                // 31 full blocks of the common prefix
        assertEquals(64L * perRequest, unshared.stats().blocksFilled());
        assertEquals(prefixBlocks + 64L * (perRequest - prefixBlocks), shared.stats().blocksFilled(),
                "the prefix's blocks once, then each request's own tail");
        assertEquals(0, shared.stats().blocksInUse(), "every block was given back");

        int cachedSum = 0;
        int uncached = 0;
        for (InferenceResult result : shared.results()) {
            int cached = (int) result.usage().cachedPromptTokens();
            assertEquals(prompt, result.usage().promptTokens());
            cachedSum += cached;
            if (cached == 0) {
                uncached++;
            }
        }
        assertEquals(1, uncached, "only the first request computed the prefix");
        assertEquals(63 * prefixBlocks * BLOCK, cachedSum);
        for (InferenceResult result : unshared.results()) {
            assertEquals(0, result.usage().cachedPromptTokens());
        }
    }

    @Test
    void moreRequestsThanTheKvCacheHoldsAllCompleteUntruncatedAsWithPlentyOfBlocks() throws Exception {
        List<ObjectNode> requests = mixedRequests().subList(0, 16);
        // each request needs 5 blocks (prompt + 63 fed-back tokens); 11 blocks run at most 2 at a time
        EngineLimits tight = EngineLimits.of(16, 512).withKvCache(11 * BLOCK, BLOCK);
        Run scarce = together(tight, requests);
        Run plenty = together(EngineLimits.of(16, 512), requests);
        assertEquals(new KvLayout(BLOCK, 11), scarce.layout());
        assertEquals(plenty.texts(), scarce.texts());
        for (JsonNode body : scarce.bodies()) {
            assertEquals("length", body.at("/choices/0/finish_reason").asText());
            assertEquals(StoriesReference.OUTPUT_TOKENS, body.at("/usage/completion_tokens").asInt());
        }
    }

    @Test
    void aRequestThatCannotFitTheWholeKvCacheIsA400NamingTheOption() throws Exception {
        try (LocalEngine engine = engine(EngineLimits.DEFAULTS.withKvCache(4 * BLOCK, BLOCK))) {
            InferenceResult r = engine.submit(Endpoint.COMPLETIONS,
                    Bodies.write(Bodies.greedy(MODEL, "Once upon a time", 100))).get(30, TimeUnit.SECONDS);
            assertEquals(400, r.statusCode(), r.body());
            String message = Bodies.read(r.body()).at("/error/message").asText();
            assertTrue(message.contains("holds only 64") && message.contains("kv_cache_tokens"), message);
            // a request that fits still runs
            InferenceResult small = engine.submit(Endpoint.COMPLETIONS,
                    Bodies.write(Bodies.greedy(MODEL, "Once upon a time", 8))).get(30, TimeUnit.SECONDS);
            assertEquals(200, small.statusCode(), small.body());
        }
    }

    @Test
    void aPromptPrefilledOneTokenPerStepAnswersAsOnePrefilledWhole() throws Exception {
        List<ObjectNode> requests = List.of(sharedPrefixRequest(2), sharedPrefixRequest(3));
        Run whole = together(EngineLimits.of(4, 4096), requests);
        Run tokenByToken = together(EngineLimits.of(4, 1), requests);
        assertEquals(whole.texts(), tokenByToken.texts());
    }
}
