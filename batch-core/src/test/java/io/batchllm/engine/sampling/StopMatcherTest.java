package io.batchllm.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StopMatcherTest {

    /** Feeds the pieces and returns what each call emitted. */
    private static List<String> feedAll(StopMatcher matcher, String... pieces) {
        List<String> emitted = new ArrayList<>();
        for (String piece : pieces) {
            emitted.add(matcher.feed(piece));
        }
        return emitted;
    }

    @Test
    void withoutStopsEverythingIsEmittedAtOnce() {
        StopMatcher matcher = new StopMatcher(List.of());
        assertEquals(List.of("Hel", "lo"), feedAll(matcher, "Hel", "lo"));
        assertEquals("", matcher.flush());
    }

    @Test
    void aStopSplitAcrossThreePiecesIsFoundAndRemoved() {
        StopMatcher matcher = new StopMatcher(List.of("STOP"));
        assertEquals(List.of("Hello ", "", ""), feedAll(matcher, "Hello ST", "O", "P and more"));
        assertTrue(matcher.stopped());
        assertEquals("", matcher.flush());
    }

    @Test
    void aFalseStartIsReleasedOnceItCannotBeAStop() {
        StopMatcher matcher = new StopMatcher(List.of("END"));
        assertEquals(List.of("", "", "ENx"), feedAll(matcher, "E", "N", "x"));
        assertFalse(matcher.stopped());
    }

    @Test
    void overlappingPrefixesDoNotHideAMatch() {
        // "aaab" contains "aab" starting at index 1: only the first "a" is text
        StopMatcher matcher = new StopMatcher(List.of("aab"));
        assertEquals(List.of("", "", "a", ""), feedAll(matcher, "a", "a", "a", "b"));
        assertTrue(matcher.stopped());
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopMatcher matcher = new StopMatcher(List.of("world", "lo", "xyz"));
        assertEquals("hel", matcher.feed("hello world"));
        assertTrue(matcher.stopped());

        // "bc" completes while "abcd" is still only a prefix: text stops before "bc"
        StopMatcher nested = new StopMatcher(List.of("abcd", "bc"));
        assertEquals(List.of("", "a"), feedAll(nested, "ab", "c"));
        assertTrue(nested.stopped());
    }

    @Test
    void aStopAtTheVeryStartLeavesNoText() {
        StopMatcher matcher = new StopMatcher(List.of("\n\n"));
        assertEquals(List.of("", ""), feedAll(matcher, "\n", "\nrest"));
        assertTrue(matcher.stopped());
    }

    @Test
    void nonAsciiStopsMatchAcrossPieces() {
        StopMatcher cjk = new StopMatcher(List.of("。"));
        assertEquals(List.of("你好", ""), feedAll(cjk, "你好", "。再见"));
        assertTrue(cjk.stopped());

        StopMatcher accent = new StopMatcher(List.of("é!"));
        assertEquals(List.of("caf", "", "é?"), feedAll(accent, "café", "", "?"));
        assertFalse(accent.stopped());

        StopMatcher emoji = new StopMatcher(List.of("🙂end"));
        assertEquals(List.of("ok ", "", ""), feedAll(emoji, "ok 🙂", "en", "d!"));
        assertTrue(emoji.stopped());
    }

    @Test
    void flushReturnsTheHeldBackTailWhenGenerationEndsOtherwise() {
        StopMatcher matcher = new StopMatcher(List.of("###"));
        assertEquals(List.of("a", ""), feedAll(matcher, "a#", "#"));
        assertEquals("##", matcher.flush());
    }

    @Test
    void feedingAfterAStopIsAnError() {
        StopMatcher matcher = new StopMatcher(List.of("x"));
        matcher.feed("x");
        assertThrows(IllegalStateException.class, () -> matcher.feed("more"));
        assertThrows(IllegalArgumentException.class, () -> new StopMatcher(List.of("")));
    }

    @Test
    void randomSplitsEmitExactlyTheTextBeforeTheFirstStop() {
        Random random = new Random(12345);
        List<String> stops = List.of("aab", "ba", "ccc");
        for (int round = 0; round < 2000; round++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(20);
            for (int i = 0; i < length; i++) {
                text.append("abc".charAt(random.nextInt(3)));
            }
            // oracle: the smallest index where any stop occurs in the whole text
            int cut = text.length();
            for (String stop : stops) {
                int at = text.indexOf(stop);
                if (at >= 0) {
                    cut = Math.min(cut, at);
                }
            }
            StopMatcher matcher = new StopMatcher(stops);
            StringBuilder emitted = new StringBuilder();
            int position = 0;
            while (position < text.length() && !matcher.stopped()) {
                int end = Math.min(text.length(), position + 1 + random.nextInt(4));
                emitted.append(matcher.feed(text.substring(position, end)));
                position = end;
            }
            emitted.append(matcher.flush());
            assertEquals(text.substring(0, cut), emitted.toString(), "text " + text);
            assertEquals(cut < text.length(), matcher.stopped(), "text " + text);
        }
    }
}
