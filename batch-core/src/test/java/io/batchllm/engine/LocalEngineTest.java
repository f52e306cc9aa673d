package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local engine's request behaviour, through the backend SPI, on stories260K (reference outputs from
 * llama.cpp) and the built-in demo model (the one with a chat template).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalEngineTest {
    private static final String STORIES = "stories";
    private static final String COMPLETIONS = "/v1/completions";
    private static final String CHAT = "/v1/chat/completions";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private Path demoFile;
    private LocalBackend backend;
    private int storiesContext;

    @BeforeAll
    void start(@TempDir Path dir) {
        demoFile = DemoModel.ensure(dir);
        backend = LocalBackend.load(new BackendConfig(Map.of(STORIES, StoriesReference.MODEL, DemoModel.NAME, demoFile),
                        2, Map.of()), "cpu", path -> CpuExecutor.load(path, 2), Clock.fixed(NOW, ZoneOffset.UTC));
        try (GgufFile f = GgufFile.open(StoriesReference.MODEL)) {
            storiesContext = f.requireInt("llama.context_length");
        }
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @Test
    void greedyCompletionReproducesLlamaCppWithUsageAndCreated() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        JsonNode body = ok(COMPLETIONS, Bodies.greedy(STORIES, ref.prompt(), StoriesReference.OUTPUT_TOKENS));
        assertEquals("text_completion", body.get("object").asText());
        assertEquals(STORIES, body.get("model").asText());
        assertEquals(NOW.getEpochSecond(), body.get("created").asLong());
        assertEquals(ref.outputText(), body.at("/choices/0/text").asText());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(ref.promptTokens().length, body.at("/usage/prompt_tokens").asInt());
        assertEquals(StoriesReference.OUTPUT_TOKENS, body.at("/usage/completion_tokens").asInt());
    }

    @Test
    void generatedTokensCountEveryTokenSampled() throws Exception {
        // run-batch's live progress reads this, long before the first request of a batch finishes
        long before = backend.generatedTokens();
        JsonNode body = ok(COMPLETIONS, Bodies.greedy(STORIES, "Once upon a time", 12));
        assertEquals(12, body.at("/usage/completion_tokens").asInt());
        assertEquals(12, backend.generatedTokens() - before);
    }

    @Test
    void aTokenIdPromptIsUsedAsIs() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        ObjectNode request = Bodies.greedy(STORIES, "", 16);
        var ids = request.putArray("prompt");
        for (int id : ref.promptTokens()) {
            ids.add(id);
        }
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals(ref.firstPieces(16), body.at("/choices/0/text").asText());
        assertEquals(ref.promptTokens().length, body.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void seededSamplingIsReproducibleAloneAndAmongOtherRequests() throws Exception {
        ObjectNode seeded = Bodies.completion(STORIES, "Once upon a time", 40).put("temperature", 0.8).put("seed", 42);
        String alone = text(ok(COMPLETIONS, seeded));
        assertEquals(alone, text(ok(COMPLETIONS, seeded)), "the same seed twice");

        List<ObjectNode> mixed = new ArrayList<>();
        mixed.add(Bodies.completion(STORIES, "Lily wanted to", 30).put("temperature", 1.0).put("seed", 1));
        mixed.add(Bodies.greedy(STORIES, "The sun was shining and", 50));
        mixed.add(seeded);
        mixed.add(Bodies.completion(STORIES, "Once upon a time", 40).put("temperature", 0.8).put("seed", 43));
        mixed.add(Bodies.completion(STORIES, "Tom said", 10).put("temperature", 0.5));
        List<JsonNode> results = okAll(COMPLETIONS, mixed);
        assertEquals(alone, text(results.get(2)), "seed 42 batched with four other requests");
        assertNotEquals(alone, text(results.get(3)), "another seed samples another story");
        assertTrue(alone.length() > 40, "40 sampled tokens make a story, got: " + alone);
    }

    @Test
    void aStopStringEndsTheChoiceBeforeIt() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        // the reference continues ", there was a little girl named Lily."; " Lily" is the 10th token
        ObjectNode request = Bodies.greedy(STORIES, ref.prompt(), 64);
        request.putArray("stop").add("Lily").add("never generated");
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals(ref.firstPieces(9) + " ", body.at("/choices/0/text").asText());
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertEquals(10, body.at("/usage/completion_tokens").asInt(), "the tokens of the stop string count");
    }

    @Test
    void aStopStringSplitOverTokensIsFound() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        // "girl" is generated as " g", "ir", "l" (tokens 6 to 8)
        ObjectNode request = Bodies.greedy(STORIES, ref.prompt(), 64);
        request.put("stop", "girl");
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals(", there was a little ", body.at("/choices/0/text").asText());
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertEquals(8, body.at("/usage/completion_tokens").asInt());
    }

    @Test
    void maxTokensEndsTheChoiceWithLength() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        JsonNode body = ok(COMPLETIONS, Bodies.greedy(STORIES, ref.prompt(), 5));
        assertEquals(ref.firstPieces(5), body.at("/choices/0/text").asText());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(5, body.at("/usage/completion_tokens").asInt());
    }

    @Test
    void theEndOfSequenceTokenEndsTheChoiceWithStopAndNoText() throws Exception {
        int eos;
        try (GgufFile f = GgufFile.open(StoriesReference.MODEL)) {
            eos = Tokenizer.fromGguf(f).eos();
        }
        ObjectNode request = Bodies.greedy(STORIES, "Once upon a time", 20);
        request.putObject("logit_bias").put(Integer.toString(eos), 100);
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals("", body.at("/choices/0/text").asText());
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertEquals(1, body.at("/usage/completion_tokens").asInt());
    }

    @Test
    void minTokensKeepsTheEndTokenAwayUntilThatManyTokensWereGenerated() throws Exception {
        ObjectNode request = Bodies.greedy(STORIES, "Once upon a time", 20).put("min_tokens", 3);
        request.putObject("logit_bias").put(Integer.toString(storiesEos()), 100);
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertEquals(4, body.at("/usage/completion_tokens").asInt(), "three tokens, then the end token");
        assertTrue(body.at("/choices/0/text").asText().length() > 0);
    }

    @Test
    void ignoreEosGeneratesPastTheEndToken() throws Exception {
        ObjectNode request = Bodies.greedy(STORIES, "Once upon a time", 5).put("ignore_eos", true);
        request.putObject("logit_bias").put(Integer.toString(storiesEos()), 100);
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(5, body.at("/usage/completion_tokens").asInt());
        assertEquals("", body.at("/choices/0/text").asText(), "the end token has no text");
    }

    @Test
    void aStopTokenIdEndsTheChoiceWithoutItsText() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        // " Lily" is the 10th token of the reference continuation
        ObjectNode request = Bodies.greedy(STORIES, ref.prompt(), 64);
        request.putArray("stop_token_ids").add(ref.outputTokens()[9]);
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals(ref.firstPieces(9), body.at("/choices/0/text").asText());
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertEquals(10, body.at("/usage/completion_tokens").asInt(), "the stop token counts");
    }

    @Test
    void aRepetitionPenaltyChangesWhatGreedyDecodingRepeats() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        ObjectNode request = Bodies.greedy(STORIES, ref.prompt(), StoriesReference.OUTPUT_TOKENS)
                .put("repetition_penalty", 1.5);
        String penalized = text(ok(COMPLETIONS, request));
        assertNotEquals(ref.outputText(), penalized, "the reference repeats itself; a penalty of 1.5 avoids that");
        assertEquals(penalized, text(ok(COMPLETIONS, request)), "and does so deterministically");
    }

    @Test
    void anUnknownFieldIsA400NamingIt() throws Exception {
        InferenceResult r = submit(COMPLETIONS, Bodies.completion(STORIES, "Once upon a time", 5).put("max_token", 5));
        assertEquals(400, r.statusCode());
        JsonNode error = Bodies.read(r.body()).get("error");
        assertEquals("max_token", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("did you mean max_tokens?"), r.body());
    }

    private static int storiesEos() {
        try (GgufFile f = GgufFile.open(StoriesReference.MODEL)) {
            return Tokenizer.fromGguf(f).eos();
        }
    }

    @Test
    void nChoicesEachHaveTheirOwnSeededStreamAndUsageSumsThem() throws Exception {
        ObjectNode request = Bodies.completion(STORIES, "Once upon a time", 20).put("temperature", 0.9)
                .put("seed", 7).put("n", 2);
        JsonNode body = ok(COMPLETIONS, request);
        assertEquals(2, body.get("choices").size());
        assertEquals(0, body.at("/choices/0/index").asInt());
        assertEquals(1, body.at("/choices/1/index").asInt());
        assertNotEquals(body.at("/choices/0/text").asText(), body.at("/choices/1/text").asText());
        assertEquals(40, body.at("/usage/completion_tokens").asInt(), "20 per choice, both finish by length");
        assertEquals(5, body.at("/usage/prompt_tokens").asInt(), "the prompt counts once");
        assertEquals(body, withoutId(ok(COMPLETIONS, request), body.get("id").asText()), "n=2 is reproducible too");
    }

    @Test
    void greedyChoicesOfOneRequestAreIdentical() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        JsonNode body = ok(COMPLETIONS, Bodies.greedy(STORIES, ref.prompt(), 12).put("n", 3));
        for (int i = 0; i < 3; i++) {
            assertEquals(ref.firstPieces(12), body.at("/choices/" + i + "/text").asText());
        }
    }

    @Test
    void completionLogprobsListEveryTokenWithItsAlternatives() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        JsonNode logprobs = ok(COMPLETIONS, Bodies.greedy(STORIES, ref.prompt(), 8).put("logprobs", 3))
                .at("/choices/0/logprobs");
        assertEquals(8, logprobs.get("tokens").size());
        assertEquals(8, logprobs.get("token_logprobs").size());
        assertEquals(8, logprobs.get("top_logprobs").size());
        int offset = 0;
        for (int i = 0; i < 8; i++) {
            String piece = ref.outputPieces().get(i);
            assertEquals(piece, logprobs.at("/tokens/" + i).asText());
            assertEquals(offset, logprobs.at("/text_offset/" + i).asInt());
            offset += piece.length();
            double chosen = logprobs.at("/token_logprobs/" + i).asDouble();
            assertTrue(chosen <= 0, "a log-probability, got " + chosen);
            JsonNode top = logprobs.at("/top_logprobs/" + i);
            assertTrue(top.size() >= 1 && top.size() <= 3, "at most 3 alternatives: " + top);
            double best = Double.NEGATIVE_INFINITY;
            for (var e : top.properties()) {
                best = Math.max(best, e.getValue().asDouble());
            }
            assertEquals(best, chosen, 1e-6, "greedy picks the most likely token at position " + i);
            assertEquals(chosen, top.get(piece).asDouble(), 1e-6, "the chosen token is among the alternatives");
        }
    }

    @Test
    void chatOnTheDemoModelAnswersWithTheTemplatedPromptAndLogprobs() throws Exception {
        ObjectNode request = Bodies.chat(DemoModel.NAME, "Hello there").put("max_tokens", 6).put("temperature", 0)
                .put("logprobs", true).put("top_logprobs", 2);
        JsonNode body = ok(CHAT, request);
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("assistant", body.at("/choices/0/message/role").asText());
        assertTrue(body.get("system_fingerprint").asText().startsWith("fp_cpu_"));
        int[] expectedPrompt;
        try (GgufFile f = GgufFile.open(demoFile)) {
            expectedPrompt = Tokenizer.fromGguf(f).encode("<|user|>\nHello there\n<|assistant|>\n", true, true);
        }
        assertEquals(expectedPrompt.length, body.at("/usage/prompt_tokens").asInt());
        JsonNode content = body.at("/choices/0/logprobs/content");
        int generated = body.at("/usage/completion_tokens").asInt();
        assertTrue(generated >= 1 && generated <= 6, "1 to max_tokens tokens, got " + generated);
        StringBuilder text = new StringBuilder();
        for (JsonNode position : content) {
            assertEquals(2, position.get("top_logprobs").size());
            byte[] bytes = new byte[position.get("bytes").size()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) position.get("bytes").get(i).asInt();
            }
            text.append(new String(bytes, StandardCharsets.UTF_8));
        }
        assertEquals(body.at("/choices/0/message/content").asText(), text.toString(),
                "the logprob tokens' bytes spell the message");
    }

    @Test
    void chatToAnEngineBuiltWithoutTemplateIsA400SayingToUseCompletions() throws Exception {
        // the backend gives template-less models ChatML; an engine built without any template refuses chat
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(StoriesReference.MODEL)) {
            tokenizer = Tokenizer.fromGguf(f);
        }
        InferenceResult r;
        try (LocalEngine engine = LocalEngine.builder(STORIES, CpuExecutor.load(StoriesReference.MODEL, 1), tokenizer)
                .start()) {
            r = engine.submit(Endpoint.CHAT_COMPLETIONS,
                    Bodies.write(Bodies.chat(STORIES, "Hello"))).get(30, TimeUnit.SECONDS);
        }
        assertEquals(400, r.statusCode());
        JsonNode error = Bodies.read(r.body()).get("error");
        assertEquals("no_chat_template", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("model stories has no chat template"), r.body());
        assertTrue(error.get("message").asText().contains("/v1/completions"), r.body());
    }

    @Test
    void promptPlusMaxTokensBeyondTheContextIsContextLengthExceeded() throws Exception {
        InferenceResult r = submit(COMPLETIONS, Bodies.greedy(STORIES, "Once upon a time", storiesContext));
        assertEquals(400, r.statusCode());
        JsonNode error = Bodies.read(r.body()).get("error");
        assertEquals("context_length_exceeded", error.get("code").asText());
        assertEquals("prompt", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("maximum context length is " + storiesContext), r.body());

        // one token over: the 5-token prompt leaves room for context - 5 (filling it exactly is tested below)
        InferenceResult oneOver = submit(COMPLETIONS, Bodies.greedy(STORIES, "Once upon a time", storiesContext - 4));
        assertEquals(400, oneOver.statusCode());
        assertTrue(oneOver.body().contains("you requested " + (storiesContext + 1) + " tokens (5 in the prompt, "
                + (storiesContext - 4) + " in the completion)"), oneOver.body());

        // the largest max_tokens there is: the sum in the message must not overflow
        InferenceResult largest = submit(COMPLETIONS, Bodies.greedy(STORIES, "Once upon a time", Integer.MAX_VALUE));
        assertEquals(400, largest.statusCode());
        assertTrue(largest.body().contains("you requested 2147483652 tokens (5 in the prompt, 2147483647 in the"
                + " completion)"), largest.body());
    }

    @Test
    void withoutMaxTokensGenerationEndsWithLengthWhereTheContextEnds() throws Exception {
        int context;
        int eos;
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(demoFile)) {
            context = f.requireInt("llama.context_length");
            tokenizer = Tokenizer.fromGguf(f);
            eos = tokenizer.eos();
        }
        // grow the message until the templated prompt leaves room for exactly 3 tokens
        StringBuilder message = new StringBuilder();
        while (tokenizer.encode("<|user|>\n" + message + "\n<|assistant|>\n", true, true).length < context - 3) {
            message.append(" a");
        }
        int prompt = tokenizer.encode("<|user|>\n" + message + "\n<|assistant|>\n", true, true).length;
        ObjectNode request = Bodies.chat(DemoModel.NAME, message.toString()).put("temperature", 0);
        request.putObject("logit_bias").put(Integer.toString(eos), -100);
        JsonNode body = ok(CHAT, request);
        assertEquals(prompt, body.at("/usage/prompt_tokens").asInt());
        assertEquals(context - prompt, body.at("/usage/completion_tokens").asInt(), "prompt + completion = context");
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
    }

    @Test
    void aTokenPromptLongerThanTheContextIsContextLengthExceeded() throws Exception {
        ObjectNode request = Bodies.greedy(STORIES, "", 1);
        var ids = request.putArray("prompt");
        for (int i = 0; i <= storiesContext; i++) {
            ids.add(300);
        }
        InferenceResult r = submit(COMPLETIONS, request);
        assertEquals(400, r.statusCode());
        assertEquals("context_length_exceeded", Bodies.read(r.body()).at("/error/code").asText());
    }

    @Test
    void aPromptTokenOutsideTheVocabularyIsA400NamingIt() throws Exception {
        ObjectNode request = Bodies.greedy(STORIES, "", 4);
        request.putArray("prompt").add(1).add(100_000);
        InferenceResult r = submit(COMPLETIONS, request);
        assertEquals(400, r.statusCode());
        JsonNode error = Bodies.read(r.body()).get("error");
        assertEquals("prompt", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("prompt[1] is token 100000"), r.body());
    }

    @Test
    void toolsAreRefusedNamingTheField() throws Exception {
        ObjectNode request = Bodies.chat(DemoModel.NAME, "What is the weather?");
        request.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "weather");
        InferenceResult r = submit(CHAT, request);
        assertEquals(400, r.statusCode());
        assertEquals("tools", Bodies.read(r.body()).at("/error/param").asText());
    }

    @Test
    void anUnsupportedUrlIsA400NamingUrl() throws Exception {
        InferenceResult r = submit("/v1/embeddings", Bodies.JSON.createObjectNode().put("model", STORIES)
                .put("input", "hi"));
        assertEquals(400, r.statusCode());
        JsonNode error = Bodies.read(r.body()).get("error");
        assertEquals("url", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("/v1/embeddings"), r.body());
    }

    @Test
    void theBackendServesBothModelsAndEndpoints() {
        assertEquals(Set.of(STORIES, DemoModel.NAME), backend.models());
        assertEquals(Set.of(CHAT, COMPLETIONS), backend.endpoints());
        assertEquals(4 * EngineLimits.DEFAULT_MAX_SEQUENCES, backend.maxInFlight(), "2 x 32 slots per model");
    }

    // --- helpers

    private InferenceResult submit(String url, JsonNode body) throws Exception {
        return submitAll(url, List.of(body)).get(0);
    }

    private List<InferenceResult> submitAll(String url, List<? extends JsonNode> bodies) throws Exception {
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            JsonNode b = bodies.get(i);
            requests.add(new InferenceRequest("req-" + i, url, b.get("model").asText(), Bodies.write(b)));
        }
        List<InferenceResult> results = new ArrayList<>();
        for (CompletableFuture<InferenceResult> f : backend.submit(requests)) {
            results.add(f.get(60, TimeUnit.SECONDS));
        }
        return results;
    }

    private JsonNode ok(String url, JsonNode body) throws Exception {
        return okAll(url, List.of(body)).get(0);
    }

    private List<JsonNode> okAll(String url, List<? extends JsonNode> bodies) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (InferenceResult r : submitAll(url, bodies)) {
            assertEquals(200, r.statusCode(), r.body());
            out.add(Bodies.read(r.body()));
        }
        return out;
    }

    private static String text(JsonNode body) {
        return body.at("/choices/0/text").asText();
    }

    /** The body with its random {@code id} replaced by {@code id}, to compare two responses. */
    private static JsonNode withoutId(JsonNode body, String id) {
        ((ObjectNode) body).put("id", id);
        return body;
    }
}
