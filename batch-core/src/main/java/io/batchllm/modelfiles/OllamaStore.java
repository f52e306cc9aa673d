package io.batchllm.modelfiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Ollama's model store: {@code manifests/HOST/NAMESPACE/MODEL/TAG} is an OCI-style JSON manifest whose
 * layer of media type {@value #MODEL_LAYER} is the GGUF, kept as {@code blobs/sha256-HEX} (older
 * versions wrote {@code sha256:HEX}).
 */
final class OllamaStore {
    static final String MODEL_LAYER = "application/vnd.ollama.image.model";
    private static final String DEFAULT_HOST = "registry.ollama.ai";
    private static final String DEFAULT_NAMESPACE = "library";
    private static final String DEFAULT_TAG = "latest";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Path> stores;

    OllamaStore(List<Path> stores) {
        this.stores = stores;
    }

    /** The GGUF of {@code name} ({@code MODEL[:TAG]}, {@code NAMESPACE/MODEL[:TAG]} or {@code HOST/NAMESPACE/MODEL[:TAG]}). */
    Path resolve(String name) {
        Path manifestPath = manifestPath(name);
        List<Path> searched = new ArrayList<>();
        for (Path store : stores) {
            Path manifest = store.resolve("manifests").resolve(manifestPath);
            searched.add(manifest);
            if (Files.isRegularFile(manifest)) {
                return blob(name, store, manifest, searched);
            }
        }
        throw new ModelNotFoundException("no Ollama model '" + name + "' on this machine: looked for its manifest at "
                + String.join(", ", searched.stream().map(Path::toString).toList()) + " (set OLLAMA_MODELS if the store"
                + " is elsewhere; nothing is downloaded: run 'ollama pull " + name + "' first, or give a GGUF path)",
                searched);
    }

    /** {@code HOST/NAMESPACE/MODEL/TAG} for an Ollama name, with Ollama's defaults filled in. */
    static Path manifestPath(String name) {
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        String tag = colon > slash ? name.substring(colon + 1) : DEFAULT_TAG;
        String model = colon > slash ? name.substring(0, colon) : name;
        String[] parts = model.split("/", -1);
        for (String p : parts) {
            if (p.isEmpty() || p.equals(".") || p.equals("..")) {
                throw new IllegalArgumentException("'" + name + "' is not an Ollama model name; write MODEL[:TAG], "
                        + "NAMESPACE/MODEL[:TAG] or HOST/NAMESPACE/MODEL[:TAG], e.g. qwen3:0.6b");
            }
        }
        if (tag.isEmpty() || parts.length > 3) {
            throw new IllegalArgumentException("'" + name + "' is not an Ollama model name; write MODEL[:TAG], "
                    + "NAMESPACE/MODEL[:TAG] or HOST/NAMESPACE/MODEL[:TAG], e.g. qwen3:0.6b");
        }
        return switch (parts.length) {
            case 1 -> Path.of(DEFAULT_HOST, DEFAULT_NAMESPACE, parts[0], tag);
            case 2 -> Path.of(DEFAULT_HOST, parts[0], parts[1], tag);
            default -> Path.of(parts[0], parts[1], parts[2], tag);
        };
    }

    private static Path blob(String name, Path store, Path manifest, List<Path> searched) {
        JsonNode layers;
        try {
            layers = JSON.readTree(manifest.toFile()).path("layers");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Ollama manifest " + manifest + ": " + e.getMessage(), e);
        }
        for (JsonNode layer : layers) {
            if (MODEL_LAYER.equals(layer.path("mediaType").asText())) {
                String digest = layer.path("digest").asText();
                if (!digest.matches("sha256:[0-9a-f]{64}")) {
                    throw new IllegalArgumentException("the Ollama manifest " + manifest + " names its model layer '"
                            + digest + "', not a sha256 digest; the store is damaged, pull the model again");
                }
                for (String file : List.of(digest.replace(':', '-'), digest)) {
                    Path blob = store.resolve("blobs").resolve(file);
                    searched.add(blob);
                    if (Files.isRegularFile(blob)) {
                        return blob;
                    }
                }
                throw new ModelNotFoundException("the Ollama manifest " + manifest + " of '" + name + "' names the blob "
                        + digest + ", which is missing from " + store.resolve("blobs") + "; pull the model again", searched);
            }
        }
        throw new ModelNotFoundException("the Ollama manifest " + manifest + " of '" + name + "' has no layer of type "
                + MODEL_LAYER + " (no GGUF weights)", searched);
    }
}
