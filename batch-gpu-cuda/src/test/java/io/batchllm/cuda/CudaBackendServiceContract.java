package io.batchllm.cuda;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.Batch;
import io.batchllm.BatchService;
import io.batchllm.BatchStatus;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.engine.LocalEngine;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.SharedData;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend behind the public {@link BatchService}, as a user runs it: the provider creates the
 * engine over the CUDA executor, a batch of stories260K prompts (each three times, so they run
 * together) completes with llama.cpp's greedy text, and the GPU's gauges are in the service's
 * registry. Subclasses give the provider: over the CPU emulator in every build, the real one on a GPU.
 */
abstract class CudaBackendServiceContract {
    /** Tokens compared with llama.cpp's greedy output (of 64): bf16 keeps the first 32 identical. */
    static final int TOKENS = 32;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    abstract CudaBackendProvider provider();

    /** The device name the gauges are tagged with. */
    abstract String deviceName();

    @Test
    void aBatchOfStoriesPromptsCompletesWithLlamaCppsGreedyTextAndTheGpuGaugesAreRegistered() throws Exception {
        List<JsonNode> refs = new ArrayList<>();
        for (String line : Files.readAllLines(SharedData.file("reference/stories260K-greedy.jsonl"))) {
            if (!line.isBlank()) {
                refs.add(JSON.readTree(line));
            }
        }
        StringBuilder lines = new StringBuilder();
        for (int copy = 0; copy < 3; copy++) {
            for (int i = 0; i < refs.size(); i++) {
                ObjectNode body = JSON.createObjectNode().put("model", "stories")
                        .put("prompt", refs.get(i).get("prompt").asText()).put("max_tokens", TOKENS).put("temperature", 0);
                ObjectNode line = JSON.createObjectNode().put("custom_id", "ref-" + i + "-" + copy).put("method", "POST")
                        .put("url", "/v1/completions");
                line.set("body", body);
                lines.append(JSON.writeValueAsString(line)).append('\n');
            }
        }
        try (BatchService service = BatchService.builder().dataDirectory(dir.resolve("data"))
                .model("stories", SharedData.file("models/stories260K.gguf")).backendProvider(provider())
                .backendName(CudaBackendProvider.NAME).backendOption("max_sequences", "8")
                .backendOption("kv_cache_tokens", "4096").pollInterval(Duration.ofMillis(20)).build()) {
            FileObject input = service.files().upload(new ByteArrayInputStream(lines.toString().getBytes(UTF_8)),
                    "input.jsonl", FilePurpose.BATCH);
            Batch done = service.batches().await(service.batches().create(input.id(), Endpoint.COMPLETIONS).id(),
                    Duration.ofMinutes(5));
            assertEquals(BatchStatus.COMPLETED, done.status(), String.valueOf(done.errors()));
            Map<String, JsonNode> byId = new HashMap<>();
            for (JsonNode line : Jsonl.read(service.files().content(done.outputFileId()))) {
                byId.put(line.get("custom_id").asText(), line);
            }
            assertEquals(3 * refs.size(), byId.size());
            for (int copy = 0; copy < 3; copy++) {
                for (int i = 0; i < refs.size(); i++) {
                    JsonNode body = byId.get("ref-" + i + "-" + copy).at("/response/body");
                    String text = body.at("/choices/0/text").asText();
                    assertEquals(TOKENS, body.at("/usage/completion_tokens").asInt(), body.toString());
                    assertTrue(!text.isEmpty() && refs.get(i).get("output_text").asText().startsWith(text),
                            "prompt " + i + " copy " + copy + ": '" + text + "'");
                }
            }
            var registry = service.meterRegistry();
            assertTrue(registry.get("batchllm.gpu.memory.total").tag("device", deviceName()).gauge().value() > 0);
            assertTrue(registry.get(LocalEngine.KV_BLOCKS_METRIC).tag("model", "stories").gauge().value() > 0);
        }
    }
}
