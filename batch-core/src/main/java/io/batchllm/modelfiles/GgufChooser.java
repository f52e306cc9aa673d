package io.batchllm.modelfiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Picks the one GGUF of a model folder (a Hugging Face snapshot, an LM Studio repository folder) that
 * a reference without a file name means: the only one, or the only one whose name contains a quant tag
 * such as {@code Q4_K_M}. Multimodal projectors ({@code mmproj*}) are not models and never chosen.
 */
final class GgufChooser {
    private GgufChooser() {
    }

    /**
     * The GGUF of {@code folder} whose name contains {@code tag} (case-insensitive), or its only GGUF
     * when {@code tag} is null.
     *
     * @param what names the folder in messages ("Hugging Face repository Qwen/Qwen3-0.6B-GGUF")
     */
    static Path choose(Path folder, String tag, String what) {
        List<Path> ggufs;
        try (Stream<Path> files = Files.walk(folder)) {
            ggufs = files.filter(Files::isRegularFile).filter(p -> isModel(p.getFileName().toString())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder + ": " + e.getMessage(), e);
        }
        List<Path> matching = tag == null ? ggufs : ggufs.stream()
                .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).contains(tag.toLowerCase(Locale.ROOT)))
                .toList();
        if (matching.size() == 1) {
            return matching.get(0);
        }
        String files = ggufs.isEmpty() ? "none" : String.join(", ", ggufs.stream()
                .map(p -> folder.relativize(p).toString()).toList());
        throw new ModelNotFoundException(what + " (" + folder + ") has " + (matching.isEmpty() ? "no" : matching.size())
                + " GGUF file" + (matching.size() == 1 ? "" : "s") + (tag == null ? "" : " matching '" + tag + "'")
                + "; its GGUF files: " + files + ". Name the file after the repository (…/REPO/FILE.gguf)",
                List.of(folder));
    }

    /** {@code REPO} of {@code REPO:TAG} (or all of it, without a tag). */
    static String beforeTag(String repoAndTag) {
        int colon = repoAndTag.indexOf(':');
        return colon < 0 ? repoAndTag : repoAndTag.substring(0, colon);
    }

    /** {@code TAG} of {@code REPO:TAG}, or null. */
    static String tag(String repoAndTag) {
        int colon = repoAndTag.indexOf(':');
        return colon < 0 ? null : repoAndTag.substring(colon + 1);
    }

    private static boolean isModel(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".gguf") && !lower.startsWith("mmproj");
    }
}
