package io.batchllm.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition that background threads make true (a line is held, a batch is in progress).
 * The test never depends on how long that takes: it checks the condition, and the timeout only turns a
 * hang into a failure that says what was awaited.
 */
public final class Poll {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

    private Poll() {
    }

    /** Returns once {@code condition} holds; fails the test naming {@code what} after 20 s. */
    public static void until(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEFAULT_TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + DEFAULT_TIMEOUT + " waiting for " + what);
            }
            // A short park between checks keeps the 2-core CI free for the threads doing the work.
            LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
        }
    }
}
