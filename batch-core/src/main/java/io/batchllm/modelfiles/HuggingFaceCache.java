package io.batchllm.modelfiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Hugging Face hub cache as {@code huggingface_hub} lays it out: {@code models--ORG--REPO/refs/REVISION}
 * holds a commit hash, and {@code models--ORG--REPO/snapshots/COMMIT/PATH} the repository's files
 * (links into {@code blobs/}).
 */
final class HuggingFaceCache {
    private final Path cache;

    HuggingFaceCache(Path cache) {
        this.cache = cache;
    }

    /** The file of {@code ORG/REPO/PATH[@REVISION]}, {@code ORG/REPO:QUANT[@REVISION]} or {@code ORG/REPO}. */
    Path resolve(String reference) {
        int at = reference.lastIndexOf('@');
        String revision = at >= 0 ? reference.substring(at + 1) : "main";
        String name = at >= 0 ? reference.substring(0, at) : reference;
        String[] parts = name.split("/", 3);
        if (parts.length < 2 || parts[0].isEmpty() || parts[1].isEmpty() || revision.isEmpty() || name.contains("..")) {
            throw new IllegalArgumentException("'hf:" + reference + "' is not a Hugging Face file; write "
                    + "hf:ORG/REPO/FILE.gguf (optionally @REVISION), hf:ORG/REPO:QUANT or hf:ORG/REPO");
        }
        String repo = parts.length == 2 ? GgufChooser.beforeTag(parts[1]) : parts[1];
        String tag = parts.length == 2 ? GgufChooser.tag(parts[1]) : null;
        String repoId = parts[0] + "/" + repo;
        Path repoDir = cache.resolve("models--" + parts[0] + "--" + repo);
        List<Path> searched = new ArrayList<>();
        Path snapshot = snapshot(repoDir, revision, searched);
        if (snapshot == null) {
            throw new ModelNotFoundException("no snapshot '" + revision + "' of Hugging Face repository " + repoId
                    + " in the cache: looked at " + String.join(", ", searched.stream().map(Path::toString).toList())
                    + " (set HF_HOME or HF_HUB_CACHE if the cache is elsewhere; nothing is downloaded: fetch it first, "
                    + "e.g. 'huggingface-cli download " + repoId + (parts.length == 3 ? " " + parts[2] : "")
                    + "', or give a GGUF path)", searched);
        }
        if (parts.length == 2) {
            return GgufChooser.choose(snapshot, tag, "Hugging Face repository " + repoId);
        }
        Path file = snapshot.resolve(parts[2]);
        searched.add(file);
        if (!Files.isRegularFile(file)) {
            throw new ModelNotFoundException("Hugging Face repository " + repoId + " has no file '" + parts[2]
                    + "' in the cached snapshot " + snapshot + " (only the files downloaded are there; fetch it with "
                    + "'huggingface-cli download " + repoId + " " + parts[2] + "')", searched);
        }
        return file;
    }

    /** The snapshot directory of a revision: a ref (branch or tag) naming a commit, or a commit itself. */
    private static Path snapshot(Path repoDir, String revision, List<Path> searched) {
        Path ref = repoDir.resolve("refs").resolve(revision);
        searched.add(ref);
        String commit = revision;
        if (Files.isRegularFile(ref)) {
            try {
                commit = Files.readString(ref).strip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + ref + ": " + e.getMessage(), e);
            }
        }
        Path snapshot = repoDir.resolve("snapshots").resolve(commit);
        searched.add(snapshot);
        return Files.isDirectory(snapshot) ? snapshot : null;
    }
}
