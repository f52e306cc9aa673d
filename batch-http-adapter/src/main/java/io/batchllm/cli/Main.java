package io.batchllm.cli;

/**
 * The entry point of {@code batchllm.jar}.
 *
 * <p>The CPU engine uses the Vector API, which in Java 25 is still the incubator module
 * {@code jdk.incubator.vector}. Incubator modules are never resolved by default, and a jar manifest
 * can enable native access but cannot add a module ({@code Add-Modules} is not a manifest attribute
 * the launcher reads). So that {@code java -jar batchllm.jar …} works as typed, {@code main} first
 * checks the boot layer and, when the module is missing, starts this same program again in a child
 * JVM with {@code --add-modules jdk.incubator.vector} (see {@link Relauncher}).
 *
 * <p>This class must stay free of references to engine and service classes: none of them may be
 * loaded before the check, because a class that links against the Vector API fails to load in a
 * JVM without the module.
 */
public final class Main {
    /** The incubator module the CPU engine needs. */
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    private Main() {
    }

    public static void main(String[] args) {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            System.exit(Relauncher.relaunch(args));
        }
        Relauncher.watchLauncher();
        System.exit(BatchLlmCommand.execute(args));
    }
}
