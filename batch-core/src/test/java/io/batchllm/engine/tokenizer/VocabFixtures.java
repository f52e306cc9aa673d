package io.batchllm.engine.tokenizer;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.testing.SharedData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/** llama.cpp's tokenizer test vectors in {@code shared/tokenizer-vectors}, and tokenizers loaded from them once. */
final class VocabFixtures {
    static final Path DIR = SharedData.file("tokenizer-vectors");
    static final Path STORIES = SharedData.file("models/stories260K.gguf");
    /** The separator test-tokenizer-0.cpp splits {@code .inp} files on. */
    private static final String CASE_SEPARATOR = "\n__ggml_vocab_test__\n";

    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private VocabFixtures() {
    }

    /** One input of a {@code .inp} file and its line of the {@code .out} file. */
    record Case(String vocab, int index, String input, int[] expected) {
    }

    static Path gguf(String vocab) {
        return DIR.resolve("ggml-vocab-" + vocab + ".gguf");
    }

    /** Every vocabulary that has both {@code .inp} and {@code .out} files, by name (e.g. "gpt-2"). */
    static List<String> vocabsWithVectors() {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("ggml-vocab-") && n.endsWith(".gguf.inp"))
                    .map(n -> n.substring("ggml-vocab-".length(), n.length() - ".gguf.inp".length()))
                    .filter(v -> Files.exists(DIR.resolve("ggml-vocab-" + v + ".gguf.out")))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cases of one vocabulary, parsed as test-tokenizer-0.cpp reads them. */
    static List<Case> cases(String vocab) {
        try {
            String inp = Files.readString(DIR.resolve("ggml-vocab-" + vocab + ".gguf.inp"));
            List<String> out = Files.readAllLines(DIR.resolve("ggml-vocab-" + vocab + ".gguf.out"));
            List<String> inputs = new ArrayList<>();
            int pos = 0;
            while (pos < inp.length()) {
                int next = inp.indexOf(CASE_SEPARATOR, pos);
                if (next < 0) {
                    inputs.add(inp.substring(pos));
                    break;
                }
                inputs.add(inp.substring(pos, next));
                pos = next + CASE_SEPARATOR.length();
            }
            if (inputs.size() != out.size()) {
                throw new IllegalStateException(vocab + ": " + inputs.size() + " inputs but " + out.size() + " outputs");
            }
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                String line = out.get(i).strip();
                int[] ids = line.isEmpty() ? new int[0]
                        : Stream.of(line.split(" ")).mapToInt(Integer::parseInt).toArray();
                cases.add(new Case(vocab, i, inputs.get(i), ids));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code tokenizer.ggml.model} key of a vocabulary file, read directly (not through the tokenizer). */
    static String modelType(String vocab) {
        try (GgufFile g = GgufFile.open(gguf(vocab))) {
            return g.getString("tokenizer.ggml.model").orElseThrow();
        }
    }

    /** A copy of a vocabulary file's metadata, to make variants of it. */
    static Map<String, Object> metadata(String vocab) {
        try (GgufFile g = GgufFile.open(gguf(vocab))) {
            return new HashMap<>(g.metadata());
        }
    }

    /** The tokenizer of a vocabulary file, loaded once per test run (loading takes up to a second). */
    static Tokenizer tokenizer(String vocab) {
        return LOADED.computeIfAbsent(vocab, v -> load(gguf(v)));
    }

    static Tokenizer stories() {
        return LOADED.computeIfAbsent("stories260K", v -> load(STORIES));
    }

    private static Tokenizer load(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return Tokenizer.fromGguf(g);
        }
    }
}
