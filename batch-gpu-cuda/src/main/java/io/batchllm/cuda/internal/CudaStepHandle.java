package io.batchllm.cuda.internal;

import io.batchllm.cuda.internal.device.Event;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepResult;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A step on the GPU: done when the stream passes the event recorded after its last copy. The result
 * is read from the pinned copies of each pass's sampling outputs ({@link SlotBuffers} layout) when
 * first awaited, and kept. Used by the thread that submitted the step.
 */
final class CudaStepHandle implements StepHandle {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Status codes of sample_tokens. */
    private static final int SAMPLE_NAN = 1;

    /** One pass's rows and where their outputs were copied (laid out for {@code stride} rows). */
    record PassOutputs(PassInput.Rows rows, MemorySegment outputs, int stride) {
    }

    private final Event done;
    private final int entries;
    private final int maxTop;
    private final List<PassOutputs> passes;
    private StepResult result;
    private RuntimeException failure;

    CudaStepHandle(Event done, int entries, int maxTop, List<PassOutputs> passes) {
        this.done = done;
        this.entries = entries;
        this.maxTop = maxTop;
        this.passes = passes;
    }

    @Override
    public boolean isDone() {
        return result != null || failure != null || done.isDone();
    }

    @Override
    public StepResult await() {
        settle();
        if (failure != null) {
            throw failure;
        }
        return result;
    }

    /** Waits for the step and reads its result, or keeps its failure for {@link #await()} to throw. */
    void settle() {
        if (result == null && failure == null) {
            try {
                done.synchronize();
                result = read();
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                done.close();
            }
        }
    }

    private StepResult read() {
        StepResult r = new StepResult(entries, maxTop);
        for (PassOutputs p : passes) {
            MemorySegment out = p.outputs();
            long stride = p.stride();
            for (int i = 0; i < p.rows().count(); i++) {
                int e = p.rows().entry()[i];
                int token = out.get(INT, 4L * i);
                int status = out.get(INT, 4 * stride + 4L * i);
                if (token < 0 || status != 0) {
                    r.setFailure(e, status == SAMPLE_NAN
                            ? "a logit is NaN: the forward pass produced an invalid row"
                            : "every logit is -Infinity: no token can be sampled");
                    continue;
                }
                r.setToken(e, token, out.get(FLOAT, 8 * stride + 4L * i));
                for (int k = 0; k < p.rows().top()[i]; k++) {
                    long at = 4L * (i * (long) SlotBuffers.MAX_TOP + k);
                    r.setTop(e, k, out.get(INT, 12 * stride + at),
                            out.get(FLOAT, (12 + 4L * SlotBuffers.MAX_TOP) * stride + at));
                }
            }
        }
        return r;
    }
}
