package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Test;

class RelauncherTest {

    @Test
    void aJarIsRestartedWithTheSameJvmOptionsTheVectorModuleAndTheSameArguments() {
        List<String> cmd = Relauncher.command("/jdk/bin/java", List.of("-Xmx8g", "-Dx=y"), "/opt/batchllm.jar",
                new String[] {"run-batch", "--input", "a b.jsonl"});

        assertEquals(List.of("/jdk/bin/java", "-Xmx8g", "-Dx=y", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", "/opt/batchllm.jar", "run-batch", "--input", "a b.jsonl"),
                cmd);
    }

    @Test
    void aClassPathIsRestartedWithTheMainClass() {
        String cp = "/x/classes" + File.pathSeparator + "/x/picocli.jar";

        List<String> cmd = Relauncher.command("java", List.of(), cp, new String[] {"--help"});

        assertEquals(List.of("java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", cp, "io.batchllm.cli.Main", "--help"), cmd);
    }
}
