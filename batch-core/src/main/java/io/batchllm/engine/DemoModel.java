package io.batchllm.engine;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The built-in demo model: a tiny Llama with seeded random weights and a synthetic SentencePiece
 * vocabulary, so that BatchLLM runs end to end on a fresh machine with nothing downloaded. Its output
 * is meaningless text; real users pass a GGUF file. The file is generated on first use (a few
 * hundred KB) and is identical on every machine.
 */
public final class DemoModel {
    /** The model name requests use. */
    public static final String NAME = "demo";
    /** The file name under the directory given to {@link #ensure}. */
    public static final String FILE_NAME = "demo-random-weights.gguf";
    /** Said once at start-up wherever the demo model is served. */
    public static final String NOTICE = "serving the built-in demo model 'demo': tiny, with random weights, so its "
            + "output is gibberish; pass --model NAME=PATH.gguf for a real model";

    /** A minimal ChatML template, so that chat requests work against the demo model. */
    static final String CHAT_TEMPLATE = "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + "
            + "message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

    private DemoModel() {
    }

    /** The demo model's description: its shapes and seed never change. */
    public static SyntheticModel spec() {
        return SyntheticModel.builder()
                .name("batchllm-demo-random-weights")
                .dim(64)
                .layers(2)
                .heads(4)
                .kvHeads(2)
                .ffnHidden(172)
                .vocabSize(512)
                .contextLength(1024)
                .weightType(GgmlType.F32)
                .seed(20261127L)
                .chatTemplate(CHAT_TEMPLATE)
                .build();
    }

    /** Writes the demo model into {@code directory} unless it is there already; returns its path. */
    public static Path ensure(Path directory) {
        Path target = directory.resolve(FILE_NAME);
        if (Files.isRegularFile(target)) {
            return target;
        }
        try {
            Files.createDirectories(directory);
            Path tmp = Files.createTempFile(directory, "demo", ".part");
            spec().write(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model into " + directory + ": " + e.getMessage(), e);
        }
    }
}
