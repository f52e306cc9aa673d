package io.batchllm.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts this program again in a child JVM that has {@code jdk.incubator.vector}; see {@link Main}
 * for why. The child inherits stdin, stdout and stderr, and its exit code becomes ours.
 */
final class Relauncher {
    /** Set in the child's environment, so that a child that still lacks the module cannot loop. */
    static final String GUARD_VARIABLE = "BATCHLLM_RELAUNCHED";
    /** How long our shutdown hook waits for the child to finish its own Ctrl-C handling. */
    private static final long CHILD_EXIT_WAIT_SECONDS = 120;

    private Relauncher() {
    }

    /** Runs the child and returns its exit code. Uses only JDK classes: see {@link Main}. */
    static int relaunch(String[] args) {
        if (System.getenv(GUARD_VARIABLE) != null) {
            System.err.println("batchllm: the JVM has no module " + Main.VECTOR_MODULE + " even after a restart with"
                    + " --add-modules " + Main.VECTOR_MODULE + ". Use a full JDK 25 (a jlink'ed runtime may lack"
                    + " the module), or run: java --add-modules " + Main.VECTOR_MODULE + " -jar batchllm.jar ...");
            return ExitCodes.INTERNAL_ERROR;
        }
        List<String> command = command(javaExecutable(), ManagementFactory.getRuntimeMXBean().getInputArguments(),
                System.getProperty("java.class.path"), args);
        ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
        pb.environment().put(GUARD_VARIABLE, "1");
        try {
            Process child = pb.start();
            // Ctrl-C in a terminal reaches the whole process group, so the child cancels its batch on its
            // own; this hook keeps us alive until it has, and forwards a signal sent to us alone.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stopChild(child), "batchllm-relaunch-hook"));
            return child.waitFor();
        } catch (java.io.IOException e) {
            System.err.println("batchllm: cannot restart the JVM with --add-modules " + Main.VECTOR_MODULE + " ("
                    + String.join(" ", command) + "): " + e.getMessage());
            return ExitCodes.INTERNAL_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.INTERRUPTED;
        }
    }

    private static void stopChild(Process child) {
        if (!child.isAlive()) {
            return;
        }
        child.destroy(); // SIGTERM: the child's own shutdown hook cancels its batch and cleans up
        try {
            child.waitFor(CHILD_EXIT_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The child's command line: the same JVM and JVM options (heap size, system properties), plus the
     * module and native access, then this jar (or class path and main class) and the same arguments.
     */
    static List<String> command(String java, List<String> jvmOptions, String classPath, String[] args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmOptions);
        cmd.add("--add-modules");
        cmd.add(Main.VECTOR_MODULE);
        cmd.add("--enable-native-access=ALL-UNNAMED");
        if (isSingleJar(classPath)) {
            cmd.add("-jar");
            cmd.add(classPath);
        } else {
            cmd.add("-cp");
            cmd.add(classPath);
            cmd.add(Main.class.getName());
        }
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private static boolean isSingleJar(String classPath) {
        return classPath != null && !classPath.contains(java.io.File.pathSeparator) && classPath.endsWith(".jar");
    }

    private static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
