package io.batchllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.ModelFormatException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * llama.cpp's test-tokenizer-0 over every vocabulary in {@code shared/tokenizer-vectors}: each input
 * must encode, with {@code add_special = false} and {@code parse_special = false} as that test does,
 * to exactly the ids in the {@code .out} file (which come from HF tokenizers).
 */
class TokenizerVectorsTest {

    /** The kinds this tokenizer supports; any other vocabulary with vectors must be refused clearly. */
    private static final Set<String> SUPPORTED_MODELS = Set.of("llama", "gpt2");

    static Stream<Arguments> supportedCases() {
        return VocabFixtures.vocabsWithVectors().stream()
                .filter(v -> SUPPORTED_MODELS.contains(VocabFixtures.modelType(v)))
                .flatMap(v -> VocabFixtures.cases(v).stream())
                .map(c -> Arguments.of(c.vocab(), c.index(), printable(c.input()), c));
    }

    static Stream<String> unsupportedVocabs() {
        return VocabFixtures.vocabsWithVectors().stream()
                .filter(v -> !SUPPORTED_MODELS.contains(VocabFixtures.modelType(v)));
    }

    @ParameterizedTest(name = "{0} #{1}: {2}")
    @MethodSource("supportedCases")
    void encodesEachVectorInputToTheReferenceIds(String vocab, int index, String shown, VocabFixtures.Case c) {
        int[] actual = VocabFixtures.tokenizer(vocab).encode(c.input(), false, false);
        assertArrayEquals(c.expected(), actual, () -> vocab + " #" + index + " " + shown
                + "\n expected " + Arrays.toString(c.expected()) + "\n   actual " + Arrays.toString(actual));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupportedVocabs")
    void refusesVocabularyKindsItCannotTokenizeByName(String vocab) {
        String model = VocabFixtures.modelType(vocab);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> VocabFixtures.tokenizer(vocab));
        assertTrue(e.getMessage().contains("'tokenizer.ggml.model' = '" + model + "' is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains(VocabFixtures.gguf(vocab).toString()), "names the file: " + e.getMessage());
    }

    /**
     * Regression: deepseek-llm's punctuation class spans U+3000, which llama.cpp never matches because
     * it turns non-ASCII whitespace into U+000B first; the ids are llama.cpp's.
     */
    @Test
    void deepseekLlmTokenizesIdeographicSpaceAsLlamaCppDoes() {
        assertArrayEquals(new int[] {243, 88946}, VocabFixtures.tokenizer("deepseek-llm").encode("  \u3000", false, false));
    }

    @Test
    void theVectorSetCoversTheExpectedVocabularies() {
        // Guards against the parameterized tests above silently shrinking if files go missing.
        assertEquals(List.of("bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm", "mpt",
                "phi-3", "refact", "starcoder"), VocabFixtures.vocabsWithVectors());
        assertEquals(List.of("bert-bge"), unsupportedVocabs().toList());
        assertEquals(9 * 46, supportedCases().count());
    }

    /**
     * Decoding the reference ids gives the input back, except that llama.cpp's {@code clean_spaces}
     * (on for the GPT-2-style vocabularies here) deliberately drops some spaces before punctuation and
     * in contractions; for those vocabularies the input is first put through that documented rule.
     */
    @ParameterizedTest(name = "{0} #{1}: {2}")
    @MethodSource("supportedCases")
    void decodingTheReferenceIdsGivesTheInputBack(String vocab, int index, String shown, VocabFixtures.Case c) {
        String expected = cleansSpaces(vocab) ? cleanSpaces(c.input()) : c.input();
        assertEquals(expected, VocabFixtures.tokenizer(vocab).decode(c.expected()));
    }

    /** llama.cpp sets clean_spaces for these pre-tokenizers (not for the deepseek ones, nor for SPM). */
    private static boolean cleansSpaces(String vocab) {
        return Set.of("gpt-2", "falcon", "mpt", "starcoder", "refact").contains(vocab);
    }

    /** HF's clean_up_tokenization as llama.cpp's detokenizer applies it, pass by pass. */
    private static String cleanSpaces(String s) {
        String t = s.replace(" ?", "?").replace(" !", "!").replace(" .", ".").replace(" ,", ",");
        t = t.replace(" ' ", "'");
        return t.replace(" 's", "'s").replace(" 'm", "'m").replace(" 're", "'re").replace(" 've", "'ve");
    }

    private static String printable(String s) {
        String shown = s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
        return shown.length() > 40 ? shown.substring(0, 40) + "…" : shown;
    }
}
