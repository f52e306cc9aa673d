package io.batchllm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * Regression test for the log flood of a full disk (about 65,000 lines in 2 minutes): a failure that
 * repeats in a loop is logged once per interval, with how many were left out.
 */
class ThrottledLogTest {
    @Test
    void aRepeatingFailureIsLoggedOncePerIntervalWithTheCountLeftOut() {
        List<String> logged = new ArrayList<>();
        Logger logger = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("error")) {
                        logged.add(Arrays.deepToString(args));
                    }
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
        long[] now = {0};
        ThrottledLog log = new ThrottledLog(logger, Duration.ofSeconds(30), () -> now[0]);
        RuntimeException failure = new IllegalStateException("No space left on device");
        for (int i = 0; i < 1000; i++) {
            log.error("could not store results", failure);
        }
        assertEquals(1, logged.size(), logged::toString);
        assertTrue(logged.getFirst().contains("No space left on device"), logged::toString);

        now[0] += Duration.ofSeconds(30).toNanos();
        log.error("could not store results", failure);
        assertEquals(2, logged.size(), logged::toString);
        assertTrue(logged.get(1).contains("999"), "the next entry says how many were left out: " + logged.get(1));
    }
}
