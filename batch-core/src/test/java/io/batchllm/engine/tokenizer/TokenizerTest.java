package io.batchllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TokenizerTest {

    // --- stories260K against llama-server's recorded tokens ---

    static Stream<JsonNode> storiesReference() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(SharedData.file("reference/stories260K-greedy.jsonl"))) {
            if (!line.isBlank()) {
                lines.add(json.readTree(line));
            }
        }
        return lines.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("storiesReference")
    void encodesEachStoriesPromptWithBosAsLlamaServerDid(JsonNode ref) {
        assertTrue(ref.get("bos_added").asBoolean());
        int[] expected = ints(ref.get("prompt_tokens"));
        assertArrayEquals(expected, VocabFixtures.stories().encode(ref.get("prompt").asText(), true, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("storiesReference")
    void streamingTheGreedyOutputGivesLlamaServersTextAndPieces(JsonNode ref) {
        Tokenizer t = VocabFixtures.stories();
        int[] output = ints(ref.get("output_tokens"));
        TokenDecoder decoder = t.newDecoder();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < output.length; i++) {
            text.append(decoder.append(output[i]));
            assertEquals(ref.get("output_pieces").get(i).asText(), t.tokenText(output[i]), "piece of token " + i);
        }
        text.append(decoder.flush());
        assertEquals(ref.get("output_text").asText(), text.toString());
    }

    @Test
    void storiesVocabularyHasLlamaDefaults() {
        Tokenizer t = VocabFixtures.stories();
        assertEquals(Tokenizer.Kind.SPM, t.kind());
        assertEquals(512, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertEquals(-1, t.eot(), "no end-of-turn token in this vocabulary");
        assertEquals(0, t.unk());
        assertEquals(-1, t.pad(), "the file's 0xFFFFFFFF padding id means none");
        assertTrue(t.addsBos());
        assertFalse(t.addsEos());
        assertTrue(t.isEndOfGeneration(2));
        assertFalse(t.isEndOfGeneration(1));
        assertFalse(t.isEndOfGeneration(-1));
    }

    // --- decode semantics ---

    @Test
    void decodeDropsTheSpacePrefixOfAWholeTextButNotAfterBos() {
        Tokenizer t = VocabFixtures.stories();
        assertEquals("Once upon a time", t.decode(new int[] {403, 407, 261, 378}));
        // As llama_detokenize: the BOS (rendered as nothing) is the first token, so nothing is stripped.
        assertEquals(" Once upon a time", t.decode(new int[] {1, 403, 407, 261, 378}));
    }

    @Test
    void decodeRendersControlTokensAsNothingButTokenTextShowsThem() {
        Tokenizer t = VocabFixtures.tokenizer("llama-spm");
        assertEquals("", t.decode(new int[] {1, 2}));
        assertEquals("<s>", t.tokenText(1));
        assertTrue(t.isControl(1));
        assertEquals("<s>", t.rawTokenText(1));
    }

    @Test
    void decodeAppliesLlamaCppSpaceCleanupForGpt2StyleVocabularies() {
        Tokenizer gpt2 = VocabFixtures.tokenizer("gpt-2");
        assertEquals("Hi? Yes, it's ok.", gpt2.decode(gpt2.encode("Hi ? Yes , it 's ok .", false, false)));
        // deepseek-coder has clean_spaces off: the same text comes back unchanged.
        Tokenizer ds = VocabFixtures.tokenizer("deepseek-coder");
        assertEquals("Hi ? Yes , it 's ok .", ds.decode(ds.encode("Hi ? Yes , it 's ok .", false, false)));
    }

    @Test
    void tokenBytesAreTheExactBytesOfEachKindOfToken() {
        Tokenizer spm = VocabFixtures.tokenizer("llama-spm");
        assertArrayEquals(new byte[] {0x0A}, spm.tokenBytes(spm.tokenId("<0x0A>")));
        assertArrayEquals(new byte[] {(byte) 0xF0}, spm.tokenBytes(spm.tokenId("<0xF0>")));
        assertEquals(" Hello", spm.tokenText(spm.tokenId("▁Hello")));
        Tokenizer gpt2 = VocabFixtures.tokenizer("gpt-2");
        assertArrayEquals(" world".getBytes(StandardCharsets.UTF_8), gpt2.tokenBytes(gpt2.tokenId("Ġworld")));
        assertArrayEquals("\n".getBytes(StandardCharsets.UTF_8), gpt2.tokenBytes(gpt2.tokenId("Ċ")));
    }

    @Test
    void outOfRangeTokenIdsAreRejectedWithTheVocabularySize() {
        Tokenizer t = VocabFixtures.stories();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {512}));
        assertTrue(e.getMessage().contains("512") && e.getMessage().contains("0..511"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.tokenBytes(-1));
    }

    // --- special tokens and BOS/EOS ---

    @Test
    void controlTokenTextIsATokenOnlyWhenParsingSpecial() {
        Tokenizer gpt2 = VocabFixtures.tokenizer("gpt-2");
        assertArrayEquals(new int[] {50256}, gpt2.encode("<|endoftext|>", false, true));
        int[] plain = gpt2.encode("<|endoftext|>", false, false);
        assertTrue(plain.length > 1 && Arrays.stream(plain).noneMatch(id -> id == 50256), Arrays.toString(plain));
        assertEquals("<|endoftext|>", gpt2.decode(plain));

        int[] mixed = gpt2.encode("Hello<|endoftext|> world", false, true);
        assertArrayEquals(concat(gpt2.encode("Hello", false, false), new int[] {50256},
                gpt2.encode(" world", false, false)), mixed);
    }

    @Test
    void spmPrefixesASpaceAgainAfterASpecialToken() {
        Tokenizer spm = VocabFixtures.tokenizer("llama-spm");
        assertArrayEquals(concat(new int[] {1}, spm.encode("Hello", false, false)),
                spm.encode("<s>Hello", false, true));
    }

    @Test
    void phi3SpecialTokensSwallowTheWhitespaceAfterThem() {
        Tokenizer phi3 = VocabFixtures.tokenizer("phi-3");
        int user = phi3.tokenId("<|user|>");
        int end = phi3.tokenId("<|end|>");
        assertArrayEquals(concat(new int[] {user}, phi3.encode("Hi", false, false), new int[] {end}),
                phi3.encode("<|user|>\n  Hi<|end|>", false, true));
    }

    @Test
    void userDefinedTokensAreRecognisedEvenWithoutParseSpecial() {
        Tokenizer mpt = VocabFixtures.tokenizer("mpt");
        int fourSpaces = mpt.tokenId("    ");
        assertTrue(fourSpaces >= 0);
        int[] ids = mpt.encode("a    b", false, false);
        assertTrue(Arrays.stream(ids).anyMatch(id -> id == fourSpaces), Arrays.toString(ids));
    }

    @Test
    void addSpecialFollowsEachModelsBosAndEosSettings() {
        Tokenizer spm = VocabFixtures.tokenizer("llama-spm");
        assertArrayEquals(concat(new int[] {1}, spm.encode("Hello", false, false)), spm.encode("Hello", true, false));
        assertArrayEquals(new int[] {1}, spm.encode("", true, false));
        assertArrayEquals(new int[0], spm.encode("", false, false));

        Tokenizer gpt2 = VocabFixtures.tokenizer("gpt-2");
        assertFalse(gpt2.addsBos(), "gpt2 vocabularies add no BOS unless the file says so");
        assertArrayEquals(gpt2.encode("Hello", false, false), gpt2.encode("Hello", true, false));

        Tokenizer coder = VocabFixtures.tokenizer("deepseek-coder");
        assertTrue(coder.addsBos(), "tokenizer.ggml.add_bos_token = true in the file");
        assertArrayEquals(concat(new int[] {32013}, coder.encode("Hello", false, false)),
                coder.encode("Hello", true, false));
    }

    @Test
    void endOfGenerationCoversEosAndEndOfTurnTokens() {
        Tokenizer phi3 = VocabFixtures.tokenizer("phi-3");
        assertEquals(32000, phi3.eos());
        assertEquals(phi3.tokenId("<|end|>"), phi3.eot());
        assertTrue(phi3.isEndOfGeneration(phi3.eos()));
        assertTrue(phi3.isEndOfGeneration(phi3.eot()));
        assertFalse(phi3.isEndOfGeneration(phi3.tokenId("<|user|>")));
        assertFalse(phi3.isEndOfGeneration(phi3.bos()));

        Tokenizer gpt2 = VocabFixtures.tokenizer("gpt-2");
        assertEquals(50256, gpt2.eot());
        assertTrue(gpt2.isEndOfGeneration(50256));
    }

    @Test
    void graniteAndSmolDoclingEndMarkersEndGenerationAsInCurrentLlamaCpp() {
        Map<String, Object> md = VocabFixtures.metadata("phi-3");
        List<String> tokens = new java.util.ArrayList<>((List<?>) md.get("tokenizer.ggml.tokens")).stream()
                .map(String.class::cast).collect(java.util.stream.Collectors.toCollection(java.util.ArrayList::new));
        tokens.set(32002, "<|end_of_text|>");
        tokens.set(32003, "<end_of_utterance>");
        md.put("tokenizer.ggml.tokens", tokens);
        Tokenizer t = Tokenizer.fromMetadata(md, "x.gguf");
        assertTrue(t.isEndOfGeneration(32002));
        assertTrue(t.isEndOfGeneration(32003));
        assertFalse(t.isEndOfGeneration(32004), "<|placeholder3|> does not end generation");
    }

    // --- loading and refusals ---

    @Test
    void unknownPreTokenizerIsRefusedWithTheSupportedList() {
        Map<String, Object> md = VocabFixtures.metadata("gpt-2");
        md.put("tokenizer.ggml.pre", "no-such-pre");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.fromMetadata(md, "x.gguf"));
        String m = e.getMessage();
        assertTrue(m.startsWith("x.gguf: 'tokenizer.ggml.pre' = 'no-such-pre' is not a supported pre-tokenizer"), m);
        for (String supported : List.of("llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "starcoder")) {
            assertTrue(m.contains(supported), "lists " + supported + ": " + m);
        }
    }

    @Test
    void missingPreTokenizerFallsBackToLlamaCppsDefault() {
        Map<String, Object> md = VocabFixtures.metadata("gpt-2");
        md.remove("tokenizer.ggml.pre");
        Tokenizer t = Tokenizer.fromMetadata(md, "x.gguf");
        assertEquals("default", t.preTokenizer());
        // "default" isolates punctuation runs first, unlike gpt-2's own regex ("Hello," stays 2 words either way).
        assertEquals("Hello, world", t.decode(t.encode("Hello, world", false, false)));
    }

    @Test
    void otherVocabularyKindsAreRefusedByName() {
        Map<String, Object> md = VocabFixtures.metadata("llama-spm");
        md.put("tokenizer.ggml.model", "t5");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.fromMetadata(md, "x.gguf"));
        assertTrue(e.getMessage().contains("'tokenizer.ggml.model' = 't5' is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("Unigram"), e.getMessage());
    }

    @Test
    void missingOrMistypedKeysAreNamed() {
        Map<String, Object> noModel = VocabFixtures.metadata("llama-spm");
        noModel.remove("tokenizer.ggml.model");
        assertMessageContains(noModel, "'tokenizer.ggml.model' is missing");

        Map<String, Object> noTokens = VocabFixtures.metadata("llama-spm");
        noTokens.remove("tokenizer.ggml.tokens");
        assertMessageContains(noTokens, "'tokenizer.ggml.tokens' is missing");

        Map<String, Object> noMerges = VocabFixtures.metadata("gpt-2");
        noMerges.remove("tokenizer.ggml.merges");
        assertMessageContains(noMerges, "'tokenizer.ggml.merges' is missing");

        Map<String, Object> badScores = VocabFixtures.metadata("llama-spm");
        badScores.put("tokenizer.ggml.scores", "not an array");
        assertMessageContains(badScores, "'tokenizer.ggml.scores' should be an array of f32 or i32 but is String");

        Map<String, Object> bosWithoutId = VocabFixtures.metadata("gpt-2");
        bosWithoutId.put("tokenizer.ggml.pre", "chatglm-bpe"); // a type without a default BOS
        bosWithoutId.remove("tokenizer.ggml.bos_token_id");
        bosWithoutId.put("tokenizer.ggml.add_bos_token", true);
        assertMessageContains(bosWithoutId, "'tokenizer.ggml.add_bos_token' is true, but 'tokenizer.ggml.bos_token_id' is not set");
    }

    @Test
    void duplicateTokenTextsAreRefused() {
        Map<String, Object> md = VocabFixtures.metadata("llama-spm");
        @SuppressWarnings("unchecked")
        List<String> tokens = new ArrayList<>((List<String>) md.get("tokenizer.ggml.tokens"));
        tokens.set(5, tokens.get(4));
        md.put("tokenizer.ggml.tokens", tokens);
        assertMessageContains(md, "lists the token '<0x01>' twice (ids 4 and 5)");
    }

    // --- robustness and speed ---

    @Test
    void encodingFromManyThreadsAtOnceGivesTheSameIds() throws Exception {
        Tokenizer t = VocabFixtures.tokenizer("gpt-2");
        List<VocabFixtures.Case> cases = VocabFixtures.cases("gpt-2");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                results.add(pool.submit(() -> IntStream.range(0, 50).allMatch(rep -> cases.stream()
                        .allMatch(c -> Arrays.equals(c.expected(), t.encode(c.input(), false, false))))));
            }
            for (Future<Boolean> r : results) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unpairedSurrogatesAreEncodedAsTheReplacementCharacter() {
        Tokenizer t = VocabFixtures.tokenizer("gpt-2");
        assertArrayEquals(t.encode("a\uFFFDb", false, false), t.encode("a\uD800b", false, false));
    }

    @Test
    void longTextsEncodeInNearLinearTime() {
        // A merge loop that rescans the text would need minutes here; the heap-based one needs about a second.
        String unit = VocabFixtures.cases("gpt-2").get(45).input();
        String text = unit.repeat(300_000 / unit.length() + 1);
        for (String vocab : List.of("llama-spm", "deepseek-coder")) { // one SPM, one BPE; neither cleans spaces
            Tokenizer t = VocabFixtures.tokenizer(vocab);
            int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> t.encode(text, false, false), vocab);
            assertEquals(text, t.decode(ids), vocab);
        }
    }

    private static void assertMessageContains(Map<String, Object> md, String expected) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.fromMetadata(md, "x.gguf"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }
}
