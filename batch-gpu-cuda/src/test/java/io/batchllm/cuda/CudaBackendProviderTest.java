package io.batchllm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.cuda.internal.GpuDevice;
import io.batchllm.cuda.internal.LazyProbe;
import io.batchllm.cuda.internal.ProbeResult;
import io.batchllm.cuda.internal.ProbeResult.Problem;
import io.batchllm.internal.BackendRegistry;
import io.batchllm.spi.Availability;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceBackendProvider;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CudaBackendProviderTest {
    private static final GpuDevice H100 = new GpuDevice("NVIDIA H100 80GB HBM3", 9, 0, 85_000_000_000L,
            84_000_000_000L, 13000, 13000);

    private static CudaBackendProvider provider(ProbeResult result) {
        return new CudaBackendProvider(new LazyProbe(() -> result));
    }

    @Test
    void serviceLoaderFindsTheProviderUnderItsName() {
        List<String> names = ServiceLoader.load(InferenceBackendProvider.class).stream()
                .map(p -> p.get().name()).toList();
        assertTrue(names.contains("cuda"), names.toString());
        assertTrue(names.contains("cpu"), "batch-core's CPU provider is on the class path too: " + names);
    }

    @Test
    void itOutranksTheCpuProvider() {
        assertTrue(new CudaBackendProvider().priority() > 0);
    }

    @Test
    void eachProblemMakesTheProviderUnavailableWithTheProbesReason() {
        for (Problem p : Problem.values()) {
            Availability a = provider(ProbeResult.missing(p, "because " + p)).availability();
            assertFalse(a.available(), p.toString());
            assertEquals("because " + p, a.reason());
        }
    }

    @Test
    void aUsableGpuMakesTheProviderAvailableNamingTheDevice() {
        Availability a = provider(ProbeResult.found(H100)).availability();
        assertTrue(a.available());
        assertTrue(a.reason().contains("NVIDIA H100 80GB HBM3 (sm_90"), a.reason());
    }

    @Test
    void withoutAUsableGpuCreatingTheBackendOrAnExecutorFailsWithTheProbesReason() {
        CudaBackendProvider p = provider(ProbeResult.missing(Problem.NO_DEVICE, "the NVIDIA driver reports no GPU"));
        BackendConfig config = new BackendConfig(Map.of("m", Path.of("m.gguf")), 1, Map.of());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.create(config));
        assertEquals("backend 'cuda' is not available: the NVIDIA driver reports no GPU", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> p.loadExecutor(Path.of("m.gguf"), config));
        assertEquals("backend 'cuda' is not available: the NVIDIA driver reports no GPU", e.getMessage());
    }

    @Test
    void anUnknownOrBadBackendOptionIsRefusedByNameBeforeAnyModelLoads() {
        CudaBackendProvider p = provider(ProbeResult.found(H100));
        Map<String, Path> models = Map.of("m", Path.of("no-such.gguf"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.create(new BackendConfig(models, 1, Map.of("gpu_memory_fractoin", "0.5"))));
        assertTrue(e.getMessage().contains("unknown backend option 'gpu_memory_fractoin' (did you mean gpu_memory_fraction?)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("cuda_graphs"), "the CUDA options are listed: " + e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> p.create(new BackendConfig(models, 1, Map.of("cuda_graphs", "sometimes"))));
        assertEquals("backend option cuda_graphs must be true or false, got 'sometimes'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> p.create(new BackendConfig(models, 1, Map.of("gpu_memory_fraction", "2"))));
        assertTrue(e.getMessage().contains("gpu_memory_fraction must be above 0 and at most 1"), e.getMessage());
    }

    @Test
    void theProbeRunsOnceHoweverOftenAvailabilityIsAsked() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        CudaBackendProvider p = new CudaBackendProvider(new LazyProbe(() -> {
            calls.incrementAndGet();
            return ProbeResult.missing(Problem.NO_DEVICE, "no GPU");
        }));
        assertEquals(0, calls.get(), "probing is lazy: constructing the provider loads nothing");
        Thread[] threads = new Thread[8];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = Thread.ofPlatform().start(() -> {
                for (int j = 0; j < 100; j++) {
                    p.availability();
                }
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1, calls.get());
    }

    @Test
    void theFirstLinkFailureIsKeptNotTheNoClassDefFoundErrorOfLaterTouches() {
        AtomicInteger calls = new AtomicInteger();
        LazyProbe probe = new LazyProbe(() -> {
            if (calls.getAndIncrement() == 0) {
                UnsatisfiedLinkError cause = new UnsatisfiedLinkError(
                        "/tmp/cache/libjnicudart.so: libcuda.so.1: cannot open shared object file: No such file or directory");
                UnsatisfiedLinkError e = new UnsatisfiedLinkError("no jnicudart in java.library.path");
                e.initCause(cause);
                throw e;
            }
            throw new NoClassDefFoundError("Could not initialize class org.bytedeco.cuda.global.cudart");
        });
        ProbeResult first = probe.result();
        ProbeResult second = probe.result();
        assertSame(first, second);
        assertEquals(Problem.NO_DRIVER, first.problem());
        assertTrue(first.reason().contains("libcuda.so.1"), first.reason());
        assertFalse(first.reason().contains("Could not initialize"), first.reason());
    }

    @Test
    void anExceptionFromTheProbeBecomesAReasonInsteadOfEscaping() {
        ProbeResult r = new LazyProbe(() -> {
            throw new IllegalStateException("cudaSetDevice failed: CUDA error 46 (all CUDA-capable devices are busy)");
        }).result();
        assertEquals(Problem.PROBE_FAILED, r.problem());
        assertTrue(r.reason().contains("devices are busy"), r.reason());
        assertNull(r.device());
    }

    @Test
    void autoFallsBackToTheCpuAndNamingCudaFailsWithTheReason() {
        InferenceBackendProvider cpu = new StubProvider("cpu", 0);
        CudaBackendProvider cuda = provider(ProbeResult.missing(Problem.NO_DRIVER,
                "no NVIDIA driver: libcuda.so.1 cannot be loaded"));
        Map<String, Path> models = Map.of("m", Path.of("m.gguf"));

        try (BackendRegistry auto = new BackendRegistry(List.of(), List.of(cuda, cpu), models, null, 1, Map.of())) {
            assertInstanceOf(StubBackend.class, auto.forModel("m"));
            assertEquals("cpu", ((StubBackend) auto.forModel("m")).provider);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new BackendRegistry(List.of(), List.of(cuda, cpu), models, "cuda", 1, Map.of()));
        assertTrue(e.getMessage().contains("backend 'cuda' was asked for but it is not available"), e.getMessage());
        assertTrue(e.getMessage().contains("libcuda.so.1 cannot be loaded"), e.getMessage());
    }

    /** A provider that is always available and creates a {@link StubBackend}. */
    private record StubProvider(String name, int priority) implements InferenceBackendProvider {
        @Override
        public Availability availability() {
            return Availability.available("stub");
        }

        @Override
        public InferenceBackend create(BackendConfig config) {
            return new StubBackend(name, config.models().keySet());
        }
    }

    private record StubBackend(String provider, Set<String> models) implements InferenceBackend {
        @Override
        public Set<String> endpoints() {
            return Set.of("/v1/completions");
        }

        @Override
        public List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests) {
            throw new UnsupportedOperationException("not called");
        }

        @Override
        public void close() {
        }
    }
}
