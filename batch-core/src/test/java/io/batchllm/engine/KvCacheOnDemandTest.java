package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.chat.ChatTemplate;
import io.batchllm.engine.chat.ChatTemplates;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.InferenceResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KV blocks taken as sequences grow, and preemption when they run out: 64 chat requests without
 * {@code max_tokens} (each may grow to the whole context) share a cache that holds three full
 * contexts, and answer exactly as with a cache that holds all of them; the preempted choices are
 * counted in the engine's metric. Also with an executor whose steps run only after the engine has
 * planned the next one, as on a GPU, and with choices constrained by a grammar among them.
 */
class KvCacheOnDemandTest {
    private static final String MODEL = "chatty";
    private static final int CONTEXT = 128;

    private static Path modelFile;
    private static Tokenizer tokenizer;
    private static ChatTemplate template;

    @BeforeAll
    static void writeModel(@TempDir Path dir) throws IOException {
        modelFile = dir.resolve("chatty.gguf");
        SyntheticModel.builder().name("chatty").dim(64).layers(2).heads(4).kvHeads(2).ffnHidden(172).vocabSize(512)
                .contextLength(CONTEXT).weightType(GgmlType.F32).seed(11).chatTemplate(DemoModel.CHAT_TEMPLATE)
                .build().write(modelFile);
        try (GgufFile f = GgufFile.open(modelFile)) {
            tokenizer = Tokenizer.fromGguf(f);
            template = ChatTemplates.fromMetadata(f.metadata()).orElseThrow();
        }
    }

    /** The answers (choices and completion tokens) in request order, and what the engine counted. */
    private record Run(List<JsonNode> answers, double preemptions, int blocksInUse) {
    }

    private static Run run(EngineLimits limits, boolean planAhead, List<ObjectNode> requests) throws Exception {
        DeviceExecutor executor = CpuExecutor.load(modelFile, 2);
        DeferredExecutor deferred = planAhead ? new DeferredExecutor(executor) : null;
        try (LocalEngine engine = LocalEngine.builder(MODEL, deferred != null ? deferred : executor, tokenizer)
                .chatTemplate(template).limits(limits).start()) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            engine.bindTo(registry);
            List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
            for (ObjectNode r : requests) {
                futures.add(engine.submit(Endpoint.CHAT_COMPLETIONS, Bodies.write(r)));
            }
            List<JsonNode> answers = new ArrayList<>();
            for (CompletableFuture<InferenceResult> f : futures) {
                InferenceResult result = f.get(300, TimeUnit.SECONDS);
                assertEquals(200, result.statusCode(), result.body());
                JsonNode body = Bodies.read(result.body());
                ObjectNode answer = Bodies.JSON.createObjectNode();
                answer.set("choices", body.get("choices"));
                answer.set("completion_tokens", body.at("/usage/completion_tokens"));
                answers.add(answer);
            }
            if (deferred != null) {
                assertTrue(deferred.plannedAhead > 0, "the engine planned steps before their predecessors had run");
            }
            double counted = registry.get(LocalEngine.PREEMPTIONS_METRIC).tag("model", MODEL).functionCounter().count();
            assertEquals(engine.preemptions(), (long) counted);
            return new Run(answers, counted, engine.kvCacheStats().blocksInUse());
        }
    }

    /** 64 chat requests without max_tokens: greedy and seeded, of different lengths. */
    private static List<ObjectNode> requests() {
        List<ObjectNode> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            ObjectNode body = Bodies.chat(MODEL, "Tell me story number " + i + " about" + " the sea".repeat(i % 5));
            if (i % 2 == 1) {
                body.put("temperature", 0.8).put("seed", 100 + i);
            } else {
                body.put("temperature", 0);
            }
            out.add(body);
        }
        return out;
    }

    private static final EngineLimits ROOMY = EngineLimits.of(64, 512);
    /** Three full contexts for 64 requests that may each fill one. */
    private static final EngineLimits TIGHT = ROOMY.withKvCache(3 * CONTEXT, 16);

    @Test
    void sixtyFourChatRequestsWithoutMaxTokensShareACacheOfThreeContextsAndAnswerAsWithARoomyOne() throws Exception {
        List<ObjectNode> requests = requests();
        Run roomy = run(ROOMY, false, requests);
        Run tight = run(TIGHT, false, requests);
        assertEquals(0, roomy.preemptions(), "a cache for every context needs no preemption");
        assertTrue(tight.preemptions() > 0, "three contexts for 64 requests must preempt some");
        assertEquals(roomy.answers(), tight.answers());
        assertEquals(0, tight.blocksInUse(), "every block was given back");
        long toTheEnd = roomy.answers().stream()
                .filter(a -> a.at("/choices/0/finish_reason").asText().equals("length")).count();
        assertTrue(toTheEnd > 0, "some requests ran to the end of the context");
    }

    @Test
    void constrainedChoicesPreemptedOrPlannedAheadAnswerAsWithARoomyCache() throws Exception {
        String regex = "[a-z]{3,8}( [a-z]{3,8}){15,30}\\.";
        List<ObjectNode> requests = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            ObjectNode body = Bodies.chat(MODEL, "Say words " + i).put("temperature", i % 4 == 0 ? 0 : 0.9)
                    .put("seed", i);
            // every third request is free text, so that steps run constrained and free choices together
            requests.add(i % 3 == 2 ? body.put("max_tokens", 40) : body.put("guided_regex", regex));
        }
        Run roomy = run(ROOMY, false, requests);
        Run tight = run(EngineLimits.of(64, 512).withKvCache(CONTEXT, 16), false, requests);
        Run ahead = run(EngineLimits.of(64, 512).withKvCache(CONTEXT, 16), true, requests);
        assertTrue(tight.preemptions() > 0 && ahead.preemptions() > 0, "one context for 24 requests must preempt");
        assertEquals(roomy.answers(), tight.answers());
        assertEquals(roomy.answers(), ahead.answers());
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).has("guided_regex")) {
                String content = roomy.answers().get(i).at("/choices/0/message/content").asText();
                assertTrue(java.util.regex.Pattern.matches(regex, content), content);
            }
        }
    }

    @Test
    void stepsPlannedBeforeTheirPredecessorsResultsAnswerTheSameAndPreemptTheSameWay() throws Exception {
        List<ObjectNode> requests = requests();
        Run roomy = run(ROOMY, false, requests);
        Run ahead = run(TIGHT, true, requests);
        assertTrue(ahead.preemptions() > 0);
        assertEquals(roomy.answers(), ahead.answers());
        assertEquals(0, ahead.blocksInUse());
    }
}
