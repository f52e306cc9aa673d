package io.batchllm.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A JVM started from a test, for what only a separate process shows: signals, {@code kill -9},
 * shutdown hooks, a second process on the same data directory. Its stdout and stderr are collected
 * line by line; {@link #awaitLine} waits (with a deadline) for a line.
 */
final class ChildJvm implements AutoCloseable {
    private static final long DEADLINE_SECONDS = 60;

    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final List<Thread> collectors = new ArrayList<>();

    private ChildJvm(Process process) {
        this.process = process;
        collectors.add(collect(process.getInputStream(), "out"));
        collectors.add(collect(process.getErrorStream(), "err"));
    }

    /**
     * Starts {@code mainClass} on this test's class path.
     *
     * @param jvmOptions JVM options (system properties, module flags)
     * @param env variables added to the environment
     */
    static ChildJvm start(List<String> jvmOptions, Map<String, String> env, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        try {
            return new ChildJvm(pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Thread collect(InputStream in, String stream) {
        return Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(stream + ": " + l);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process ended; what it wrote is in lines
            }
        });
    }

    long pid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    /** Waits for a line (prefixed {@code out: } or {@code err: }) that matches; fails after 60 s or at exit. */
    String awaitLine(Predicate<String> matches) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        int seen = 0;
        synchronized (lines) {
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (matches.test(lines.get(seen))) {
                        return lines.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || collectors.stream().noneMatch(Thread::isAlive) && seen == lines.size()) {
                    throw new AssertionError("no such line " + (process.isAlive() ? "within " + DEADLINE_SECONDS
                            + " s" : "before the process exited") + "; the process wrote:\n" + String.join("\n", lines));
                }
                TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        }
    }

    /** Sends a signal by name ({@code INT}, {@code TERM}, {@code KILL}) with {@code kill}. */
    void signal(String name) throws IOException, InterruptedException {
        signal(process.pid(), name);
    }

    static void signal(long pid, String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + name + " " + pid + " failed");
        }
    }

    /** The exit code, waiting up to 60 s. */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("the process did not exit within " + DEADLINE_SECONDS + " s; it wrote:\n" + output());
        }
        return process.exitValue();
    }

    /** Everything it wrote so far. */
    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
