package io.batchllm.cuda.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA C kernel sources, shipped as resources under {@code io/batchllm/cuda/kernels/}. Each is
 * compiled on its own, at run time, with the shared {@code prelude.cuh} in front ({@link #text()}):
 * no CUDA header is needed, so NVRTC compiles them without a toolkit include directory.
 */
public enum KernelSource {
    /** Token embedding gather from a bf16 or Q8_0 table. */
    EMBEDDING("embedding.cu", "embed_bf16", "embed_q8_0"),
    /** RMSNorm, fp32 in, bf16 out. */
    NORM("norm.cu", "rmsnorm"),
    /** RoPE on the fused QKV rows with the paged K/V write. */
    ROPE_KV("rope_kv.cu", "rope_kv_write"),
    /** Paged attention for decodes and prefill chunks alike, split over long contexts, and the split merge. */
    ATTENTION("attention.cu", "attention", "attention_combine"),
    /** SwiGLU, residual add, fp32 to bf16. */
    FFN("ffn.cu", "silu_mul", "residual_add", "f32_to_bf16"),
    /** The sampling chain of the CPU sampler, with top logprobs. */
    SAMPLING("sampling.cu", "sample_tokens"),
    /** The per-slot state a step changes: fed-back tokens, appended blocks, penalty histories. */
    STEP("step.cu", "feedback_tokens", "append_blocks", "init_history");

    /** The directory of the sources on the class path. */
    public static final String RESOURCE_DIR = "/io/batchllm/cuda/kernels/";
    /** The helpers every source is compiled with. */
    public static final String PRELUDE = "prelude.cuh";

    private final String file;
    private final List<String> kernels;

    KernelSource(String file, String... kernels) {
        this.file = file;
        this.kernels = List.of(kernels);
    }

    /** The resource's file name, e.g. {@code attention.cu}. */
    public String file() {
        return file;
    }

    /** The {@code extern "C"} kernels the source defines. */
    public List<String> kernels() {
        return kernels;
    }

    /** The source alone, as shipped. */
    public String source() {
        return resource(file);
    }

    /** What is compiled: the prelude, then the source. */
    public String text() {
        return resource(PRELUDE) + "\n" + source();
    }

    static String resource(String name) {
        try (InputStream in = KernelSource.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + RESOURCE_DIR + name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + name, e);
        }
    }
}
