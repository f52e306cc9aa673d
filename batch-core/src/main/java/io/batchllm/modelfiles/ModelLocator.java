package io.batchllm.modelfiles;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Resolves a model reference to the GGUF file on this machine that the tool which downloaded it
 * keeps; nothing is ever downloaded, and a missing model gets a message naming every place looked at.
 *
 * <ul>
 *   <li>{@value #OLLAMA}{@code NAME[:TAG]} — the Ollama store: {@code $OLLAMA_MODELS}, else
 *       {@code ~/.ollama/models} (and, from {@link #fromEnvironment()}, a Linux service install's
 *       {@code /usr/share/ollama/.ollama/models}). The manifest
 *       {@code manifests/HOST/NAMESPACE/MODEL/TAG} (defaults {@code registry.ollama.ai}, {@code library},
 *       {@code latest}) names the model layer's blob, {@code blobs/sha256-…}. So {@code ollama:qwen3:0.6b}
 *       and {@code ollama:hf.co/unsloth/Qwen3-0.6B-GGUF:Q4_K_M} work as {@code ollama run} names them.
 *   <li>{@value #HUGGING_FACE}{@code ORG/REPO/FILE.gguf[@REVISION]} — the Hugging Face hub cache:
 *       {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub},
 *       else {@code ~/.cache/huggingface/hub}; the file of snapshot {@code refs/REVISION} (default
 *       {@code main}) of {@code models--ORG--REPO}. {@code hf:ORG/REPO:QUANT} picks the repository's one
 *       GGUF whose name contains {@code QUANT} (as llama.cpp's {@code -hf} does), and {@code hf:ORG/REPO}
 *       its only GGUF.
 *   <li>{@value #LM_STUDIO}{@code PUBLISHER/REPO[/FILE.gguf]} or {@code …/REPO:QUANT} — LM Studio's
 *       models folder, {@code ~/.lmstudio/models} or (older versions) {@code ~/.cache/lm-studio/models},
 *       laid out {@code PUBLISHER/REPO/FILE.gguf}.
 * </ul>
 *
 * <p>Immutable and thread safe.
 */
public final class ModelLocator {
    /** The prefix of an Ollama model name. */
    public static final String OLLAMA = "ollama:";
    /** The prefix of a file in the Hugging Face cache. */
    public static final String HUGGING_FACE = "hf:";
    /** The prefix of a model in LM Studio's models folder. */
    public static final String LM_STUDIO = "lmstudio:";

    /** Where Ollama's Linux installer keeps the service's store. */
    private static final Path OLLAMA_SERVICE_MODELS = Path.of("/usr/share/ollama/.ollama/models");

    private final Path home;
    private final Map<String, String> environment;
    private final List<Path> extraOllamaStores;

    private ModelLocator(Path home, Map<String, String> environment, List<Path> extraOllamaStores) {
        this.home = Objects.requireNonNull(home, "home");
        this.environment = Map.copyOf(environment);
        this.extraOllamaStores = extraOllamaStores;
    }

    /** A locator over this process's home directory ({@code user.home}) and environment variables. */
    public static ModelLocator fromEnvironment() {
        return new ModelLocator(Path.of(System.getProperty("user.home")), System.getenv(),
                List.of(OLLAMA_SERVICE_MODELS));
    }

    /**
     * A locator over the given home directory and environment variables only (for tests, and for
     * embedders that keep models elsewhere).
     */
    public static ModelLocator of(Path home, Map<String, String> environment) {
        return new ModelLocator(home, environment, List.of());
    }

    /** Whether {@code value} is a model reference (starts with one of the prefixes) rather than a path. */
    public static boolean isReference(String value) {
        return value.startsWith(OLLAMA) || value.startsWith(HUGGING_FACE) || value.startsWith(LM_STUDIO);
    }

    /**
     * The GGUF file {@code reference} names.
     *
     * @throws ModelNotFoundException if there is none (or no single one), saying where it looked
     * @throws IllegalArgumentException if {@code reference} is not a reference or is malformed
     */
    public Path resolve(String reference) {
        if (reference.startsWith(OLLAMA)) {
            return new OllamaStore(ollamaStores()).resolve(reference.substring(OLLAMA.length()));
        }
        if (reference.startsWith(HUGGING_FACE)) {
            return new HuggingFaceCache(huggingFaceCache()).resolve(reference.substring(HUGGING_FACE.length()));
        }
        if (reference.startsWith(LM_STUDIO)) {
            return new LmStudioModels(List.of(home.resolve(".lmstudio/models"), home.resolve(".cache/lm-studio/models")))
                    .resolve(reference.substring(LM_STUDIO.length()));
        }
        throw new IllegalArgumentException("'" + reference + "' is not a model reference; write " + OLLAMA
                + "NAME[:TAG], " + HUGGING_FACE + "ORG/REPO/FILE.gguf or " + LM_STUDIO + "PUBLISHER/REPO[/FILE.gguf]");
    }

    private List<Path> ollamaStores() {
        String configured = env("OLLAMA_MODELS");
        if (configured != null) {
            return List.of(Path.of(configured));
        }
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(home.resolve(".ollama/models")),
                extraOllamaStores.stream()).toList();
    }

    /** {@code huggingface_hub}'s rule for the cache directory. */
    private Path huggingFaceCache() {
        String hub = env("HF_HUB_CACHE") != null ? env("HF_HUB_CACHE") : env("HUGGINGFACE_HUB_CACHE");
        if (hub != null) {
            return Path.of(hub);
        }
        if (env("HF_HOME") != null) {
            return Path.of(env("HF_HOME"), "hub");
        }
        Path cache = env("XDG_CACHE_HOME") != null ? Path.of(env("XDG_CACHE_HOME")) : home.resolve(".cache");
        return cache.resolve("huggingface/hub");
    }

    private String env(String name) {
        String v = environment.get(name);
        return v == null || v.isBlank() ? null : v;
    }
}
