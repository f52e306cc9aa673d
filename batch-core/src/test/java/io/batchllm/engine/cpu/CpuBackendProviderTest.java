package io.batchllm.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.batchllm.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuBackendProviderTest {
    private static final Path STORIES = SharedData.file("models/stories260K.gguf");

    @Test
    void isTheCpuProviderAvailableWithTheVectorModuleAndDiscoverable() {
        CpuBackendProvider provider = new CpuBackendProvider();
        assertEquals("cpu", provider.name());
        assertEquals(0, provider.priority());
        // surefire starts the JVM with --add-modules jdk.incubator.vector
        assertTrue(provider.availability().available(), provider.availability().reason());
        assertTrue(ServiceLoader.load(InferenceBackendProvider.class).stream()
                .anyMatch(p -> p.type() == CpuBackendProvider.class), "listed in META-INF/services");
    }

    @Test
    void aFileThatIsNotGgufFailsNamingTheModelAndThePath(@TempDir Path dir) throws Exception {
        Path broken = dir.resolve("broken.gguf");
        Files.writeString(broken, "this is not a GGUF file");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> new CpuBackendProvider()
                .create(new BackendConfig(Map.of("mymodel", broken), 1, Map.of())));
        assertTrue(e.getMessage().contains("model 'mymodel'"), e.getMessage());
        assertTrue(e.getMessage().contains(broken.toString()), e.getMessage());
    }

    @Test
    void aMissingFileFailsNamingTheModelAndThePath(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere.gguf");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> new CpuBackendProvider()
                .create(new BackendConfig(Map.of("ghost", missing), 1, Map.of())));
        assertTrue(e.getMessage().contains("model 'ghost'"), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void aBadMaxSequencesOptionIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider()
                .create(new BackendConfig(Map.of("stories", STORIES), 1, Map.of("max_sequences", "many"))));
        assertTrue(e.getMessage().contains("max_sequences"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider()
                .create(new BackendConfig(Map.of("stories", STORIES), 1, Map.of("max_sequences", "0"))));
        assertTrue(e.getMessage().contains("max_sequences must be from 1"), e.getMessage());
    }

    @Test
    void anUnknownOptionIsRefusedAtStartNamingItAndTheClosestKnownOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider()
                .create(new BackendConfig(Map.of("stories", STORIES), 1, Map.of("max_sequence", "8"))));
        assertEquals("unknown backend option 'max_sequence' (did you mean max_sequences?); the options are "
                + "kv_block_size, kv_cache_tokens, max_sequences, max_step_tokens, prefix_sharing", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider()
                .create(new BackendConfig(Map.of("stories", STORIES), 1, Map.of("gpu_layers", "99"))));
        assertTrue(e.getMessage().startsWith("unknown backend option 'gpu_layers'; the options are "), e.getMessage());
    }

    @Test
    void maxSequencesSetsTheConcurrencyAndMoreRequestsStillAllFinish() throws Exception {
        try (InferenceBackend backend = new CpuBackendProvider()
                .create(new BackendConfig(Map.of("stories", STORIES), 1, Map.of("max_sequences", "2")))) {
            assertEquals(4, backend.maxInFlight(), "twice the sequence slots");
            List<InferenceRequest> requests = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                requests.add(new InferenceRequest("r" + i, "/v1/completions", "stories",
                        "{\"model\":\"stories\",\"prompt\":\"Once upon a time\",\"max_tokens\":" + (3 + i)
                                + ",\"temperature\":0}"));
            }
            List<CompletableFuture<InferenceResult>> futures = backend.submit(requests);
            for (int i = 0; i < 5; i++) {
                InferenceResult r = futures.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(3 + i, r.usage().completionTokens());
            }
        }
    }
}
