package io.batchllm.cuda.internal;

import io.batchllm.engine.model.Architecture;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.model.RopeScaling;
import io.batchllm.engine.model.SlidingWindow;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Which models the CUDA kernels compute exactly as the CPU engine does. The CPU engine runs more
 * architectures (Gemma's block and soft-caps, QK-norm, sliding windows, LongRoPE); a model that needs
 * one of those is refused here, before anything is uploaded, with what it needs and what to do,
 * instead of running on kernels that would quietly compute something else.
 */
public final class CudaModelSupport {
    /** The architectures whose whole block the kernels implement. */
    static final Set<Architecture> ARCHITECTURES = EnumSet.of(Architecture.LLAMA, Architecture.QWEN2);

    private CudaModelSupport() {
    }

    /** What {@code config} needs that the CUDA kernels do not implement; empty when it runs. */
    public static List<String> missing(ModelConfig config) {
        List<String> missing = new ArrayList<>();
        if (!ARCHITECTURES.contains(config.architecture())) {
            missing.add("architecture " + config.architecture().ggufName());
        }
        if (!config.slidingWindow().equals(SlidingWindow.NONE)) {
            missing.add("sliding-window attention");
        }
        if (config.attentionSoftcap() != 0 || config.finalSoftcap() != 0) {
            missing.add("logit soft-capping");
        }
        if (config.ropeScaling().type() == RopeScaling.Type.LONGROPE) {
            missing.add("LongRoPE scaling");
        }
        return missing;
    }

    /**
     * @throws IllegalArgumentException naming {@code source}, what it needs and the way out
     *     ({@code --backend cpu})
     */
    public static void check(ModelConfig config, String source) {
        List<String> missing = missing(config);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(source + " needs " + String.join(", ", missing)
                    + ", which the CUDA backend does not implement yet (it runs "
                    + ARCHITECTURES.stream().map(Architecture::ggufName).sorted().toList()
                    + " without sliding windows or soft-capping); serve it on the CPU with --backend cpu");
        }
    }
}
