package io.batchllm.engine.model;

import java.util.Objects;

/**
 * A submitted step (see {@link DeviceExecutor#submit}): its result once the device has run it. The
 * engine thread plans and submits the next step, and processes the previous one's result, while the
 * device works on this one.
 *
 * <p>Used by the thread that submitted the step.
 */
public interface StepHandle {

    /** Whether the step has finished (successfully or not), so that {@link #await()} returns at once. */
    boolean isDone();

    /**
     * Waits, without a timeout and uninterruptibly (a device step cannot be abandoned halfway), until
     * the step has run and returns its result. May be called more than once; returns the same result.
     *
     * @throws RuntimeException the step's failure: the device could not run it. Sampling failures of
     *     single sequences are not thrown but reported per entry ({@link StepResult#failure})
     */
    StepResult await();

    /** A handle of a step that already ran, for executors that run steps synchronously. */
    static StepHandle completed(StepResult result) {
        Objects.requireNonNull(result, "result");
        return new StepHandle() {
            @Override
            public boolean isDone() {
                return true;
            }

            @Override
            public StepResult await() {
                return result;
            }
        };
    }
}
