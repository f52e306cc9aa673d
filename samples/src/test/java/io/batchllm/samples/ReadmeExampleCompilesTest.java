package io.batchllm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding example in README.md compiles against the current API, as printed. */
class ReadmeExampleCompilesTest {
    @TempDir
    Path out;

    @Test
    void theReadmeEmbeddingExampleCompiles() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README.md has a ```java block");
        String example = m.group(1);
        assertTrue(example.lines().count() <= 22, "the example stays about 20 lines");
        String source = """
                import io.batchllm.*;
                import java.io.InputStream;
                import java.nio.file.Path;
                import java.time.Duration;

                class ReadmeExample {
                    static void run() throws Exception {
                %s
                    }
                }
                """.formatted(example);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///ReadmeExample.java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null,
                List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(), "-proc:none"),
                null, List.of(file)).call();
        assertTrue(ok, () -> "README example does not compile:\n" + diagnostics + "\n" + source);
        assertEquals(true, Files.exists(out.resolve("ReadmeExample.class")));
    }
}
