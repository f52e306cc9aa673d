package io.batchllm.modelfiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model references resolved in a fake home directory laid out exactly as Ollama, huggingface_hub and
 * LM Studio lay out theirs: manifests and content-addressed blobs, refs and snapshot links into blobs,
 * publisher/repository folders.
 */
class ModelLocatorTest {
    private static final String QWEN_DIGEST = "3c3e7e4c0b1a52ab3ddc1bb1b4a6c7a1f9f0d87e3b7c6c59f5d6d7e8f9a0b1c2";
    private static final String COMMIT = "c1899de289a04d12100db370d81485cdf75e47ca";

    @TempDir
    Path home;

    private ModelLocator locator() {
        return ModelLocator.of(home, Map.of());
    }

    /** What {@code ollama pull} leaves: a manifest per name and tag, the weights as a sha256-named blob. */
    private Path ollamaModel(Path store, String manifestPath, String digest) throws IOException {
        Path manifest = store.resolve("manifests").resolve(manifestPath);
        Files.createDirectories(manifest.getParent());
        Files.writeString(manifest, """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",\
                "config":{"mediaType":"application/vnd.docker.container.image.v1+json",\
                "digest":"sha256:%s","size":487},\
                "layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":4},\
                {"mediaType":"application/vnd.ollama.image.template","digest":"sha256:%s","size":1},\
                {"mediaType":"application/vnd.ollama.image.params","digest":"sha256:%s","size":1}]}
                """.formatted("1".repeat(64), digest, "2".repeat(64), "3".repeat(64)));
        Path blob = store.resolve("blobs").resolve("sha256-" + digest);
        Files.createDirectories(blob.getParent());
        Files.write(blob, "GGUF".getBytes(StandardCharsets.US_ASCII));
        return blob;
    }

    /** What huggingface_hub leaves: blobs by hash, refs/main naming a commit, the snapshot linking to the blobs. */
    private Path hfFile(Path cache, String repo, String revision, String commit, String file) throws IOException {
        Path repoDir = cache.resolve("models--" + repo.replace("/", "--"));
        Path blob = repoDir.resolve("blobs").resolve(Integer.toHexString(file.hashCode()) + "a".repeat(56));
        Files.createDirectories(blob.getParent());
        Files.write(blob, "GGUF".getBytes(StandardCharsets.US_ASCII));
        Path ref = repoDir.resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Files.writeString(ref, commit);
        Path link = repoDir.resolve("snapshots").resolve(commit).resolve(file);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
        return link;
    }

    @Test
    void anOllamaNameResolvesThroughItsManifestToTheModelBlob() throws IOException {
        Path store = home.resolve(".ollama/models");
        Path blob = ollamaModel(store, "registry.ollama.ai/library/qwen3/0.6b", QWEN_DIGEST);
        assertEquals(blob, locator().resolve("ollama:qwen3:0.6b"));
        Path latest = ollamaModel(store, "registry.ollama.ai/library/llama3.2/latest", "4".repeat(64));
        assertEquals(latest, locator().resolve("ollama:llama3.2"), "the tag defaults to latest");
        Path hf = ollamaModel(store, "hf.co/unsloth/Qwen3-0.6B-GGUF/Q4_K_M", "5".repeat(64));
        assertEquals(hf, locator().resolve("ollama:hf.co/unsloth/Qwen3-0.6B-GGUF:Q4_K_M"), "a host and a namespace");
        Path user = ollamaModel(store, "registry.ollama.ai/someone/tiny/v1", "6".repeat(64));
        assertEquals(user, locator().resolve("ollama:someone/tiny:v1"));
    }

    @Test
    void ollamaModelsMovesTheStore() throws IOException {
        Path store = home.resolve("elsewhere");
        Path blob = ollamaModel(store, "registry.ollama.ai/library/qwen3/0.6b", QWEN_DIGEST);
        assertEquals(blob, ModelLocator.of(home, Map.of("OLLAMA_MODELS", store.toString())).resolve("ollama:qwen3:0.6b"));
    }

    @Test
    void aMissingOllamaModelSaysWhereItLookedAndHowToGetIt() {
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class,
                () -> locator().resolve("ollama:qwen3:0.6b"));
        Path manifest = home.resolve(".ollama/models/manifests/registry.ollama.ai/library/qwen3/0.6b");
        assertTrue(e.getMessage().contains(manifest.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("ollama pull qwen3:0.6b"), e.getMessage());
        assertEquals(java.util.List.of(manifest), e.searched());
    }

    @Test
    void anOllamaManifestWhoseBlobIsGoneIsNamed() throws IOException {
        Path blob = ollamaModel(home.resolve(".ollama/models"), "registry.ollama.ai/library/qwen3/0.6b", QWEN_DIGEST);
        Files.delete(blob);
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class,
                () -> locator().resolve("ollama:qwen3:0.6b"));
        assertTrue(e.getMessage().contains("sha256:" + QWEN_DIGEST) && e.getMessage().contains("missing"),
                e.getMessage());
    }

    @Test
    void aHuggingFaceFileResolvesToItsFileInTheSnapshotOfMain() throws IOException {
        Path cache = home.resolve(".cache/huggingface/hub");
        Path file = hfFile(cache, "Qwen/Qwen3-0.6B-GGUF", "main", COMMIT, "Qwen3-0.6B-Q8_0.gguf");
        Path resolved = locator().resolve("hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf");
        assertEquals(file, resolved);
        assertEquals("GGUF", Files.readString(resolved), "the snapshot's link leads to the blob");
    }

    @Test
    void aHuggingFaceRevisionIsARefOrACommit() throws IOException {
        Path cache = home.resolve(".cache/huggingface/hub");
        Path tagged = hfFile(cache, "org/repo", "v1.0", "b".repeat(40), "sub/model.gguf");
        assertEquals(tagged, locator().resolve("hf:org/repo/sub/model.gguf@v1.0"));
        assertEquals(tagged, locator().resolve("hf:org/repo/sub/model.gguf@" + "b".repeat(40)));
    }

    @Test
    void hfHomeHfHubCacheAndXdgCacheHomeMoveTheCache() throws IOException {
        Path file = hfFile(home.resolve("hf/hub"), "org/repo", "main", COMMIT, "m.gguf");
        assertEquals(file, ModelLocator.of(home, Map.of("HF_HOME", home.resolve("hf").toString()))
                .resolve("hf:org/repo/m.gguf"));
        assertEquals(file, ModelLocator.of(home, Map.of("HF_HUB_CACHE", home.resolve("hf/hub").toString()))
                .resolve("hf:org/repo/m.gguf"));
        Path xdg = hfFile(home.resolve("xdg/huggingface/hub"), "org/repo", "main", COMMIT, "m.gguf");
        assertEquals(xdg, ModelLocator.of(home, Map.of("XDG_CACHE_HOME", home.resolve("xdg").toString()))
                .resolve("hf:org/repo/m.gguf"));
    }

    @Test
    void aQuantTagPicksTheOneMatchingFileOfARepository() throws IOException {
        Path cache = home.resolve(".cache/huggingface/hub");
        Path q4 = hfFile(cache, "unsloth/Qwen3-0.6B-GGUF", "main", COMMIT, "Qwen3-0.6B-Q4_K_M.gguf");
        hfFile(cache, "unsloth/Qwen3-0.6B-GGUF", "main", COMMIT, "Qwen3-0.6B-Q8_0.gguf");
        hfFile(cache, "unsloth/Qwen3-0.6B-GGUF", "main", COMMIT, "mmproj-Q4_K_M.gguf");
        assertEquals(q4, locator().resolve("hf:unsloth/Qwen3-0.6B-GGUF:q4_k_m"), "case-insensitive, mmproj skipped");
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class,
                () -> locator().resolve("hf:unsloth/Qwen3-0.6B-GGUF"));
        assertTrue(e.getMessage().contains("has 2 GGUF files") && e.getMessage().contains("Qwen3-0.6B-Q8_0.gguf"),
                e.getMessage());
    }

    @Test
    void aMissingHuggingFaceRepositoryOrFileSaysWhereItLooked() throws IOException {
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class,
                () -> locator().resolve("hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf"));
        Path repo = home.resolve(".cache/huggingface/hub/models--Qwen--Qwen3-0.6B-GGUF");
        assertTrue(e.getMessage().contains(repo.resolve("refs/main").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("huggingface-cli download Qwen/Qwen3-0.6B-GGUF Qwen3-0.6B-Q8_0.gguf"),
                e.getMessage());
        hfFile(home.resolve(".cache/huggingface/hub"), "Qwen/Qwen3-0.6B-GGUF", "main", COMMIT, "other.gguf");
        e = assertThrows(ModelNotFoundException.class,
                () -> locator().resolve("hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf"));
        assertTrue(e.getMessage().contains("has no file 'Qwen3-0.6B-Q8_0.gguf'"), e.getMessage());
    }

    @Test
    void anLmStudioModelIsFoundInEitherModelsFolder() throws IOException {
        Path current = home.resolve(".lmstudio/models/lmstudio-community/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf");
        Files.createDirectories(current.getParent());
        Files.writeString(current, "GGUF");
        assertEquals(current, locator().resolve("lmstudio:lmstudio-community/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf"));
        assertEquals(current, locator().resolve("lmstudio:lmstudio-community/Qwen3-0.6B-GGUF"), "its only GGUF");
        Path old = home.resolve(".cache/lm-studio/models/TheBloke/Mistral-7B-GGUF/mistral-7b.Q4_K_M.gguf");
        Files.createDirectories(old.getParent());
        Files.writeString(old, "GGUF");
        assertEquals(old, locator().resolve("lmstudio:TheBloke/Mistral-7B-GGUF:Q4_K_M"));
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class,
                () -> locator().resolve("lmstudio:nobody/nothing"));
        assertTrue(e.getMessage().contains(home.resolve(".lmstudio/models/nobody/nothing").toString())
                && e.getMessage().contains(home.resolve(".cache/lm-studio/models/nobody/nothing").toString()),
                e.getMessage());
    }

    @Test
    void referencesAreToldFromPathsAndMalformedOnesAreRefused() {
        assertTrue(ModelLocator.isReference("ollama:qwen3"));
        assertTrue(ModelLocator.isReference("hf:a/b/c.gguf"));
        assertTrue(ModelLocator.isReference("lmstudio:a/b"));
        assertFalse(ModelLocator.isReference("models/qwen3.gguf"));
        assertThrows(IllegalArgumentException.class, () -> locator().resolve("hf:just-a-name"));
        assertThrows(IllegalArgumentException.class, () -> locator().resolve("ollama:a/b/c/d"));
        assertThrows(IllegalArgumentException.class, () -> locator().resolve("ollama:../../etc:x"));
        assertThrows(IllegalArgumentException.class, () -> locator().resolve("models/x.gguf"));
    }
}
