package io.batchllm.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The token masks the trie walk computes are exactly the tokens whose bytes the grammar allows next,
 * token by token (the brute force), all along random constrained generations.
 */
class GrammarMatcherTest {

    /** A vocabulary with single bytes, multi-byte pieces, split UTF-8, duplicates and text-less tokens. */
    private static byte[][] vocabulary() {
        List<byte[]> tokens = new ArrayList<>();
        tokens.add(null); // a control token: no text
        tokens.add(new byte[0]);
        for (int b = 0x20; b < 0x7F; b++) {
            tokens.add(new byte[] {(byte) b});
        }
        for (String piece : new String[] {"{\"", "\"}", "\": ", ", \"", " \"", "true", "null", "false", "12", "\"a",
            "é", "\n  ", "{", "name", "na", "\"name\"", "age", "\": \"", "0.5", "-1", "ab", "abc", "\",", "}", "]", "[",
            "[{\"", "\"}]", "  ", "\n", "é\""}) {
            tokens.add(piece.getBytes(StandardCharsets.UTF_8));
        }
        tokens.add(new byte[] {(byte) 0xC3});
        tokens.add(new byte[] {(byte) 0xA9});
        tokens.add(new byte[] {(byte) 0xE2, (byte) 0x82});
        tokens.add(new byte[] {(byte) 0xAC, '"'});
        return tokens.toArray(new byte[0][]);
    }

    @Test
    void everyMaskIsExactlyTheTokensTheGrammarAllowsNext() throws Exception {
        byte[][] vocab = vocabulary();
        VocabularyTrie trie = VocabularyTrie.of(vocab);
        Grammar grammar = Grammars.jsonSchema(new ObjectMapper().readTree("""
                {"type": "object", "properties": {"name": {"type": "string", "maxLength": 6},
                 "age": {"type": "integer", "minimum": -20, "maximum": 120}, "tags": {"type": "array",
                 "items": {"enum": ["ab", "abc", "é€"]}, "maxItems": 3}, "ok": {"type": ["boolean", "null"]}},
                 "required": ["name"]}"""));
        GrammarMatcher matcher = new GrammarMatcher(grammar, trie);
        SplittableRandom random = new SplittableRandom(3);
        long[] words = new long[trie.maskWords()];
        int steps = 0;
        int completed = 0;
        for (int run = 0; run < 60; run++) {
            GrammarCursor cursor = matcher.newCursor();
            // the brute force walks a graph of its own
            State state = new StateGraph(grammar.nfa).start();
            for (int step = 0; step < 200; step++) {
                int count = cursor.writeMask(words);
                List<Integer> allowed = new ArrayList<>();
                long[] expected = new long[words.length];
                for (int t = 0; t < vocab.length; t++) {
                    if (matcher.advance(state, t) != State.DEAD) {
                        expected[t >>> 6] |= 1L << (t & 63);
                        allowed.add(t);
                    }
                }
                assertArrayEquals(expected, words, "mask at step " + step + " of run " + run);
                assertEquals(allowed.size(), count);
                steps++;
                if (cursor.accepts() && (allowed.isEmpty() || random.nextInt(4) == 0)) {
                    completed++;
                    break;
                }
                assertFalse(allowed.isEmpty(), "an unfinished text can always go on");
                int token = allowed.get(random.nextInt(allowed.size()));
                assertTrue(cursor.advance(token));
                state = matcher.advance(state, token);
            }
        }
        assertTrue(steps > 1000 && completed > 30, steps + " steps, " + completed + " completed");
    }

    @Test
    void aCursorRefusesATokenTheGrammarDoesNotAllowAndStaysWhereItWas() {
        VocabularyTrie trie = VocabularyTrie.of(vocabulary());
        GrammarMatcher matcher = new GrammarMatcher(Grammars.choice(List.of("true", "false")), trie);
        GrammarCursor cursor = matcher.newCursor();
        int t = indexOf(vocabulary(), "t".getBytes(StandardCharsets.UTF_8));
        int trueToken = indexOf(vocabulary(), "true".getBytes(StandardCharsets.UTF_8));
        assertFalse(cursor.advance(0), "a token without text");
        assertFalse(cursor.advance(indexOf(vocabulary(), "null".getBytes(StandardCharsets.UTF_8))));
        assertTrue(cursor.advance(t));
        assertFalse(cursor.accepts());
        assertFalse(cursor.advance(trueToken), "\"ttrue\" is no choice");
        assertTrue(cursor.advance(indexOf(vocabulary(), "r".getBytes(StandardCharsets.UTF_8))));
        assertTrue(cursor.advance(indexOf(vocabulary(), "u".getBytes(StandardCharsets.UTF_8))));
        assertTrue(cursor.advance(indexOf(vocabulary(), "e".getBytes(StandardCharsets.UTF_8))));
        assertTrue(cursor.accepts());
        assertFalse(cursor.canContinue());
        long[] words = new long[trie.maskWords()];
        assertEquals(0, cursor.writeMask(words), "nothing may follow a finished choice");
    }

    private static int indexOf(byte[][] vocab, byte[] bytes) {
        for (int i = 0; i < vocab.length; i++) {
            if (vocab[i] != null && java.util.Arrays.equals(vocab[i], bytes)) {
                return i;
            }
        }
        throw new AssertionError("no such token");
    }
}
