package io.batchllm.modelfiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** LM Studio's models folder, laid out {@code PUBLISHER/REPO/FILE.gguf} as its downloads from Hugging Face are. */
final class LmStudioModels {
    private final List<Path> folders;

    LmStudioModels(List<Path> folders) {
        this.folders = folders;
    }

    /** The file of {@code PUBLISHER/REPO/FILE.gguf}, {@code PUBLISHER/REPO:QUANT} or {@code PUBLISHER/REPO}. */
    Path resolve(String reference) {
        String[] parts = reference.split("/", 3);
        if (parts.length < 2 || parts[0].isEmpty() || parts[1].isEmpty() || reference.contains("..")) {
            throw new IllegalArgumentException("'lmstudio:" + reference + "' is not an LM Studio model; write "
                    + "lmstudio:PUBLISHER/REPO/FILE.gguf, lmstudio:PUBLISHER/REPO:QUANT or lmstudio:PUBLISHER/REPO");
        }
        String repo = parts.length == 2 ? GgufChooser.beforeTag(parts[1]) : parts[1];
        String tag = parts.length == 2 ? GgufChooser.tag(parts[1]) : null;
        List<Path> searched = new ArrayList<>();
        for (Path folder : folders) {
            Path repoDir = folder.resolve(parts[0]).resolve(repo);
            Path wanted = parts.length == 3 ? repoDir.resolve(parts[2]) : repoDir;
            searched.add(wanted);
            if (parts.length == 3 && Files.isRegularFile(wanted)) {
                return wanted;
            }
            if (parts.length == 2 && Files.isDirectory(repoDir)) {
                return GgufChooser.choose(repoDir, tag, "LM Studio model " + parts[0] + "/" + repo);
            }
        }
        throw new ModelNotFoundException("no LM Studio model '" + reference + "' on this machine: looked at "
                + String.join(", ", searched.stream().map(Path::toString).toList()) + " (nothing is downloaded: get it "
                + "in LM Studio or with 'lms get' first, or give the GGUF's path if its models folder was moved)",
                searched);
    }
}
