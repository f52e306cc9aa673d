package io.batchllm.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Shared pieces of the bench harnesses (run from the command line, never from tests). */
final class BenchSupport {
    private BenchSupport() {
    }

    /** Writes {@code lines} chat request lines of about {@code lineBytes} bytes each. */
    static Path requestFile(Path dir, int lines, int lineBytes) throws IOException {
        Path p = dir.resolve("requests-" + lines + ".jsonl");
        String prefix = "{\"custom_id\":\"request-%06d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
                + "\"body\":{\"model\":\"test-model\",\"max_tokens\":64,\"messages\":[{\"role\":\"system\",\"content\":"
                + "\"You are a helpful assistant.\"},{\"role\":\"user\",\"content\":\"";
        String suffix = "\"}]}}\n";
        int fill = Math.max(1, lineBytes - prefix.length() - suffix.length());
        String phrase = "Summarize the following passage in one sentence. ";
        String text = phrase.repeat(fill / phrase.length() + 1).substring(0, fill);
        try (BufferedWriter w = Files.newBufferedWriter(p, StandardCharsets.UTF_8)) {
            for (int i = 0; i < lines; i++) {
                w.write(String.format(prefix, i));
                w.write(text);
                w.write(suffix);
            }
        }
        return p;
    }

    static void resetPeakHeap() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    /** Sum of the heap pools' peaks since the last reset (an upper bound of the live peak). */
    static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static double median(double[] xs) {
        double[] c = xs.clone();
        java.util.Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
