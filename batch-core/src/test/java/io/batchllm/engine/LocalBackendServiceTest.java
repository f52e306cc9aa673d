package io.batchllm.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.RequestCounts;
import io.batchllm.engine.cpu.CpuBackendProvider;
import io.batchllm.modelfiles.ModelLocator;
import io.batchllm.modelfiles.ModelNotFoundException;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.TestBackend;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU backend behind the public {@link io.batchllm.BatchService}: batches of real requests on
 * stories260K reproduce llama.cpp's greedy completions exactly, whether the lines run one at a time or
 * all together, and request-level refusals land in the error file.
 */
class LocalBackendServiceTest {
    private static final String STORIES = "stories";

    @TempDir
    Path dir;

    @Test
    void eachReferencePromptRunAloneReproducesLlamaCpp() throws Exception {
        // one sequence at a time: every line runs alone
        try (Harness h = harness("alone", Map.of(EngineLimits.MAX_SEQUENCES_OPTION, "1"))) {
            List<StoriesReference> refs = StoriesReference.all();
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < refs.size(); i++) {
                lines.append(referenceLine("ref-" + i, refs.get(i))).append('\n');
            }
            Map<String, JsonNode> out = run(h, lines.toString(), Endpoint.COMPLETIONS, refs.size());
            for (int i = 0; i < refs.size(); i++) {
                assertMatchesReference(refs.get(i), out.get("ref-" + i));
            }
        }
    }

    @Test
    void allReferencePromptsInOneBatchRunTogetherAndStillReproduceLlamaCpp() throws Exception {
        try (Harness h = harness("together", Map.of())) {
            List<StoriesReference> refs = StoriesReference.all();
            StringBuilder lines = new StringBuilder();
            int copies = 3;
            for (int c = 0; c < copies; c++) {
                for (int i = 0; i < refs.size(); i++) {
                    lines.append(referenceLine("ref-" + i + "-" + c, refs.get(i))).append('\n');
                }
            }
            Map<String, JsonNode> out = run(h, lines.toString(), Endpoint.COMPLETIONS, copies * refs.size());
            for (int c = 0; c < copies; c++) {
                for (int i = 0; i < refs.size(); i++) {
                    assertMatchesReference(refs.get(i), out.get("ref-" + i + "-" + c));
                }
            }
        }
    }

    /**
     * llama.cpp (c392e50's llama-simple, greedy) on stories260K with the ChatML rendering of one user
     * message "Tell me a story": 49 prompt tokens with BOS, then this text.
     */
    private static final String LLAMA_CPP_CHATML_TEXT = "\"Here?\" Annabyed.\n\"Okay, An";

    @Test
    void chatLinesRunOnTheDemoModelAndChatToStoriesCompletesThroughTheChatMlFallback() throws Exception {
        try (Harness h = harness("chat", Map.of())) {
            ObjectNode demoChat = Bodies.chat(DemoModel.NAME, "Tell me a story").put("max_tokens", 8);
            String demoLines = Bodies.line("demo-0", "/v1/chat/completions", demoChat) + "\n"
                    + Bodies.line("demo-1", "/v1/chat/completions", demoChat.deepCopy().put("seed", 3)) + "\n";
            Map<String, JsonNode> demo = run(h, demoLines, Endpoint.CHAT_COMPLETIONS, 2);
            for (JsonNode line : demo.values()) {
                assertEquals(200, line.at("/response/status_code").asInt(), line.toString());
                assertEquals("chat.completion", line.at("/response/body/object").asText());
                assertEquals("assistant", line.at("/response/body/choices/0/message/role").asText());
            }

            // stories260K's GGUF has no chat template: ChatML, as llama.cpp falls back to
            ObjectNode storiesChat = Bodies.chat(STORIES, "Tell me a story").put("max_tokens", 16).put("temperature", 0);
            JsonNode line = run(h, Bodies.line("stories-chat", "/v1/chat/completions", storiesChat) + "\n",
                    Endpoint.CHAT_COMPLETIONS, 1).get("stories-chat");
            assertEquals(200, line.at("/response/status_code").asInt(), line.toString());
            assertEquals(49, line.at("/response/body/usage/prompt_tokens").asInt(), "llama.cpp's prompt length");
            String text = line.at("/response/body/choices/0/message/content").asText();
            assertTrue(text.length() > 15 && LLAMA_CPP_CHATML_TEXT.startsWith(text), text);
        }
    }

    @Test
    void aModelPathAloneIsServedByTheDiscoveredCpuBackend() throws Exception {
        StoriesReference ref = StoriesReference.onceUponATime();
        try (BatchService service = BatchService.builder().dataDirectory(dir.resolve("discovered"))
                .model(STORIES, StoriesReference.MODEL).backendName("cpu").threads(1)
                .pollInterval(Duration.ofMillis(20)).build()) {
            assertEquals(Set.of(STORIES), service.models());
            assertEquals(ref.firstPieces(10), firstTenTokens(service, ref));
            // the engine's meters are in the service's registry
            var registry = service.meterRegistry();
            assertEquals(0, registry.get(LocalEngine.PREEMPTIONS_METRIC).tag("model", STORIES).functionCounter().count());
            assertTrue(registry.get(LocalEngine.KV_BLOCKS_METRIC).tag("model", STORIES).gauge().value() > 0);
            assertEquals(0, registry.get(LocalEngine.KV_BLOCKS_IN_USE_METRIC).tag("model", STORIES).gauge().value());
        }
    }

    @Test
    void anOllamaNameInTheBuilderIsServedFromTheStoresBlob() throws Exception {
        // a fake home whose Ollama store holds stories260K as `ollama pull` would (the blob links to the file)
        Path home = dir.resolve("home");
        String digest = "ab".repeat(32);
        Path manifest = home.resolve(".ollama/models/manifests/registry.ollama.ai/library/stories/260k");
        Files.createDirectories(manifest.getParent());
        Files.writeString(manifest, "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
                + "\"application/vnd.ollama.image.model\",\"digest\":\"sha256:" + digest + "\",\"size\":1}]}");
        Path blob = home.resolve(".ollama/models/blobs/sha256-" + digest);
        Files.createDirectories(blob.getParent());
        Files.createSymbolicLink(blob, StoriesReference.MODEL.toAbsolutePath());
        StoriesReference ref = StoriesReference.onceUponATime();
        try (BatchService service = BatchService.builder().dataDirectory(dir.resolve("ollama"))
                .modelLocator(ModelLocator.of(home, Map.of())).model(STORIES, "ollama:stories:260k")
                .backendName("cpu").threads(1).pollInterval(Duration.ofMillis(20)).build()) {
            assertEquals(ref.firstPieces(10), firstTenTokens(service, ref));
        }
        ModelNotFoundException missing = assertThrows(ModelNotFoundException.class, () -> BatchService.builder()
                .modelLocator(ModelLocator.of(home, Map.of())).model(STORIES, "ollama:stories:15m"));
        assertTrue(missing.getMessage().contains("manifests/registry.ollama.ai/library/stories/15m"),
                missing.getMessage());
    }

    /** The text of a one-line greedy batch of {@code ref}'s prompt, 10 tokens. */
    private static String firstTenTokens(BatchService service, StoriesReference ref) throws Exception {
        String line = Bodies.line("only", "/v1/completions", Bodies.greedy(STORIES, ref.prompt(), 10));
        FileObject input = service.files().upload(new ByteArrayInputStream((line + "\n").getBytes(UTF_8)),
                "input.jsonl", FilePurpose.BATCH);
        Batch done = service.batches().await(service.batches().create(input.id(), Endpoint.COMPLETIONS).id(),
                Duration.ofSeconds(60));
        assertEquals(BatchStatus.COMPLETED, done.status(), String.valueOf(done.errors()));
        return Jsonl.read(service.files().content(done.outputFileId())).get(0).at("/response/body/choices/0/text")
                .asText();
    }

    private Harness harness(String name, Map<String, String> options) {
        Path demo = DemoModel.ensure(dir.resolve("models"));
        return new Harness(dir.resolve(name), TestBackend.standard(), b -> {
            b.model(STORIES, StoriesReference.MODEL).model(DemoModel.NAME, demo)
                    .backendProvider(new CpuBackendProvider()).threads(2);
            options.forEach(b::backendOption);
            return b;
        });
    }

    /** A line asking for what llama.cpp was asked: the prompt, 64 tokens, greedy, with logprobs. */
    private static String referenceLine(String customId, StoriesReference ref) {
        return Bodies.line(customId, "/v1/completions",
                Bodies.greedy(STORIES, ref.prompt(), StoriesReference.OUTPUT_TOKENS).put("logprobs", 1));
    }

    private static void assertMatchesReference(StoriesReference ref, JsonNode line) {
        assertEquals(200, line.at("/response/status_code").asInt(), line.toString());
        JsonNode body = line.at("/response/body");
        assertEquals(ref.outputText(), body.at("/choices/0/text").asText(), ref.prompt());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(ref.promptTokens().length, body.at("/usage/prompt_tokens").asInt());
        assertEquals(StoriesReference.OUTPUT_TOKENS, body.at("/usage/completion_tokens").asInt());
        JsonNode tokens = body.at("/choices/0/logprobs/tokens");
        assertEquals(ref.outputPieces().size(), tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            assertEquals(ref.outputPieces().get(i), tokens.get(i).asText(), ref.prompt() + ", token " + i);
        }
        assertEquals(ref.outputTokens().length, tokens.size());
    }

    private static Map<String, JsonNode> run(Harness h, String lines, Endpoint endpoint, int expected)
            throws InterruptedException {
        Batch b = create(h, lines, endpoint);
        assertEquals(new RequestCounts(expected, expected, 0), b.requestCounts(), String.valueOf(b.errors()));
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode line : h.lines(b.outputFileId())) {
            byId.put(line.get("custom_id").asText(), line);
        }
        assertEquals(expected, byId.size());
        return byId;
    }

    private static Batch create(Harness h, String lines, Endpoint endpoint) throws InterruptedException {
        Batch created = h.service.batches().create(h.upload(lines).id(), endpoint);
        Batch done = h.service.batches().await(created.id(), Duration.ofSeconds(60));
        assertEquals(BatchStatus.COMPLETED, done.status(), String.valueOf(done.errors()));
        return done;
    }
}
