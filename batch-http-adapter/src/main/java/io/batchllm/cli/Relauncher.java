package io.batchllm.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts this program again in a child JVM that has {@code jdk.incubator.vector}; see {@link Main}
 * for why. The child inherits stdin, stdout and stderr, and its exit code becomes ours, also when a
 * signal stops us. The child stops as on SIGTERM when we die, even by {@code kill -9}
 * ({@link #watchLauncher()}), so that it never keeps serving, and holding the data directory, alone.
 */
final class Relauncher {
    /**
     * Set in the child's environment to the launcher's process id: a child that still lacks the module
     * cannot loop, and the child watches the launcher by it.
     */
    static final String GUARD_VARIABLE = "BATCHLLM_RELAUNCHED";
    /** What the child exits with when it stops because the launcher died: as on SIGTERM (128 + 15). */
    static final int LAUNCHER_DIED = 143;
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
        pb.environment().put(GUARD_VARIABLE, Long.toString(ProcessHandle.current().pid()));
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

    /**
     * Our JVM is exiting on a signal while the child runs: pass SIGTERM on (its own shutdown hook
     * cancels its batch, or stops the server, and cleans up), wait for it, and exit with its code rather
     * than 128 + our signal, which is what the JVM would otherwise exit with.
     */
    private static void stopChild(Process child) {
        if (!child.isAlive()) {
            return; // it ended first: main passes its exit code on
        }
        child.destroy();
        try {
            if (child.waitFor(CHILD_EXIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
                System.out.flush();
                System.err.flush();
                Runtime.getRuntime().halt(child.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * In the child: when the launcher named in {@link #GUARD_VARIABLE} ends without stopping us (it
     * was killed with SIGKILL), stop as on SIGTERM. Without this the child would go on serving, with
     * nobody to stop it, holding the data directory's lock. Uses only JDK classes: see {@link Main}.
     */
    static void watchLauncher() {
        String launcher = System.getenv(GUARD_VARIABLE);
        long pid;
        try {
            pid = Long.parseLong(launcher);
        } catch (NumberFormatException e) {
            return; // not started by a launcher that says who it is
        }
        java.util.Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            launcherDied(pid);
            return;
        }
        handle.get().onExit().thenRun(() -> launcherDied(pid));
    }

    private static void launcherDied(long pid) {
        System.err.println("batchllm: the launcher process " + pid + " ended; stopping as on SIGTERM");
        System.err.flush();
        System.exit(LAUNCHER_DIED);
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
