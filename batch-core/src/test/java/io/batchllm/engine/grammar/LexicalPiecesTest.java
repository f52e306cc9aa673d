package io.batchllm.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** UTF-8 encoding of code point sets and decimal integer ranges, checked exhaustively or at every boundary. */
class LexicalPiecesTest {

    private static Grammar of(Expr e) {
        return new Grammar(List.of(e), "test");
    }

    @Test
    void aCodePointSetMatchesTheUtf8OfExactlyItsCodePoints() {
        SplittableRandom random = new SplittableRandom(11);
        int[] edges = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x3FFFF, 0x40000,
            0xFFFFF, 0x100000, 0x10FFFF};
        for (int round = 0; round < 40; round++) {
            CodePointSet set = CodePointSet.EMPTY;
            for (int r = 0; r < 3; r++) {
                int a = edges[random.nextInt(edges.length)] + random.nextInt(-2, 3);
                int b = edges[random.nextInt(edges.length)] + random.nextInt(-2, 3);
                int lo = Math.clamp(Math.min(a, b), 0, CodePointSet.MAX);
                int hi = Math.clamp(Math.max(a, b), 0, CodePointSet.MAX);
                set = set.union(CodePointSet.of(lo, hi));
            }
            Grammar g = of(Utf8.encode(set));
            for (int edge : edges) {
                for (int d = -3; d <= 3; d++) {
                    int c = edge + d;
                    if (c < 0 || c > CodePointSet.MAX || Character.isSurrogate((char) c) && c <= 0xFFFF) {
                        continue;
                    }
                    String text = new String(Character.toChars(c));
                    assertEquals(set.contains(c), GrammarTesting.accepts(g, text), Integer.toHexString(c) + " in " + set);
                }
            }
        }
        Grammar all = of(Utf8.encode(CodePointSet.ALL));
        for (byte[] bad : new byte[][] {{(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xE0, (byte) 0x80, (byte) 0x80}}) {
            assertFalse(GrammarTesting.run(new StateGraph(all.nfa).start(), bad).accepting,
                    "overlong, surrogate or too large: " + java.util.HexFormat.of().formatHex(bad));
        }
    }

    @Test
    void anIntegerRangeMatchesExactlyItsIntegersWrittenPlainly() {
        long[][] ranges = {{-123, 4567}, {0, 0}, {-5, -1}, {7, 7}, {99, 1000}, {-1000, -99}, {10, 19}, {1, 9},
            {-9, 9}, {123456, 123999}};
        for (long[] r : ranges) {
            Grammar g = of(IntegerRanges.between(r[0], r[1]));
            for (long n = r[0] - 150; n <= r[1] + 150; n++) {
                assertEquals(n >= r[0] && n <= r[1], GrammarTesting.accepts(g, Long.toString(n)), n + " in " + r[0] + ".." + r[1]);
            }
            assertFalse(GrammarTesting.accepts(g, "-0"));
            assertFalse(GrammarTesting.accepts(g, "0" + r[1]), "no leading zero");
        }
        Grammar wide = of(IntegerRanges.between(-999_999_999_999L, 1_000_000_000_000L));
        assertEquals(true, GrammarTesting.accepts(wide, "1000000000000"));
        assertEquals(false, GrammarTesting.accepts(wide, "1000000000001"));
        assertEquals(true, GrammarTesting.accepts(wide, "-999999999999"));
    }

    @Test
    void jsonStringCharactersHaveOneSpellingWhereConstrained() {
        Grammar g = of(JsonText.stringChars(CodePointSet.ofChars("a\"\\\n\u0001é")));
        for (String s : new String[] {"a", "\\\"", "\\\\", "\\n", "\\u0001", "é"}) {
            assertEquals(true, GrammarTesting.accepts(g, s), s);
        }
        for (String s : new String[] {"\"", "\\", "\n", "\\u0061", "\\/", "\\u000a", "b"}) {
            assertEquals(false, GrammarTesting.accepts(g, s), s);
        }
        assertEquals(true, new String("é".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals("é"));
    }
}
