package io.batchllm.cli;

import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The {@code synthetic:SHAPE-TYPE} models of {@code bench --model}: llama2.c's 15M and 110M shapes with
 * seeded random weights ({@link SyntheticModel}), as the llama.cpp reference figures were measured, and
 * Llama-3.2-1B's shape for the GPU.
 * Each is written once into a cache directory and reused; writing the 110M F32 file takes a few
 * seconds and 418 MiB.
 */
final class SyntheticModels {
    /** The {@code --model} prefix that selects a synthetic model. */
    static final String PREFIX = "synthetic:";
    private static final Map<String, Supplier<SyntheticModel.Builder>> SHAPES = Map.of(
            "15M", SyntheticModel::stories15M,
            "110M", SyntheticModel::stories110M,
            "1B", SyntheticModels::llama32OneB);
    /** Every tensor type the engine reads, by its lower-case name ({@code q4_k}, {@code iq4_xs}, …). */
    private static final Map<String, GgmlType> TYPES = Arrays.stream(GgmlType.values())
            .collect(Collectors.toMap(t -> t.name().toLowerCase(Locale.ROOT), t -> t));

    private SyntheticModels() {
    }

    /** The names {@code --model} accepts after {@link #PREFIX}, for messages. */
    static String names() {
        return "15M, 110M or 1B, then a tensor type: " + Arrays.stream(GgmlType.values())
                .map(t -> "-" + t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))
                + " (e.g. synthetic:110M-q8_0, synthetic:1B-bf16)";
    }

    /**
     * Llama-3.2-1B's shape (1.24 B parameters, the CUDA benchmark's): dim 2048, 16 layers, 32 heads,
     * 8 KV heads, FFN 8192, vocab 128256, the output tied to the embeddings. In bf16 its file is 2.5 GB.
     */
    static SyntheticModel.Builder llama32OneB() {
        return SyntheticModel.builder().name("synth-1B").dim(2048).layers(16).heads(32).kvHeads(8).ffnHidden(8192)
                .vocabSize(128256).tiedOutput(true);
    }

    /**
     * The file for {@code synthetic:NAME}, written into {@code cacheDir} if it is not there yet.
     *
     * @throws UsageException if NAME is not a known shape and type
     */
    static Path resolve(String model, Path cacheDir) {
        return resolve(model, cacheDir, null);
    }

    /**
     * The file for {@code synthetic:NAME} with a synthetic vocabulary of {@code vocabSize} tokens
     * (null: the shape's own), written into {@code cacheDir} if it is not there yet.
     *
     * @throws UsageException if NAME is not a known shape and type
     */
    static Path resolve(String model, Path cacheDir, Integer vocabSize) {
        String name = model.substring(PREFIX.length());
        int dash = name.indexOf('-');
        String shapeName = dash < 0 ? "" : name.substring(0, dash).toUpperCase(Locale.ROOT);
        String typeName = dash < 0 ? "" : name.substring(dash + 1).toLowerCase(Locale.ROOT);
        Supplier<SyntheticModel.Builder> shape = SHAPES.get(shapeName);
        GgmlType type = TYPES.get(typeName);
        if (shape == null || type == null) {
            throw new UsageException("unknown synthetic model '" + model + "': use " + PREFIX + names());
        }
        name = shapeName + "-" + typeName + (vocabSize == null ? "" : "-v" + vocabSize);
        Path file = cacheDir.resolve("synth-" + name + ".gguf");
        if (Files.isRegularFile(file)) {
            return file;
        }
        try {
            Files.createDirectories(cacheDir);
            // Written under a temporary name and moved, so an interrupted write never leaves a truncated
            // file that a later run would take for a finished one.
            Path tmp = Files.createTempFile(cacheDir, "synth-" + name, ".partial");
            try {
                SyntheticModel.Builder builder = shape.get().weightType(type);
                if (vocabSize != null) {
                    builder.vocabSize(vocabSize);
                }
                builder.build().write(tmp);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the synthetic model into " + cacheDir
                    + " (choose another directory with --cache-dir): " + e.getMessage(), e);
        }
        return file;
    }

    /** {@code $XDG_CACHE_HOME/batchllm}, or {@code ~/.cache/batchllm}. */
    static Path defaultCacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("batchllm");
    }
}
