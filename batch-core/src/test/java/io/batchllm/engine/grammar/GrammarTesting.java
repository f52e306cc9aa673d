package io.batchllm.engine.grammar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Runs grammars on whole texts and draws random sentences from them, for tests. */
final class GrammarTesting {
    private GrammarTesting() {
    }

    /** Whether {@code text}'s UTF-8 bytes are a complete sentence of {@code grammar}. */
    static boolean accepts(Grammar grammar, String text) {
        State s = run(new StateGraph(grammar.nfa).start(), text.getBytes(StandardCharsets.UTF_8));
        return s.accepting;
    }

    /** Whether {@code text} can be continued into a sentence (it is a prefix of one). */
    static boolean viablePrefix(Grammar grammar, String text) {
        return run(new StateGraph(grammar.nfa).start(), text.getBytes(StandardCharsets.UTF_8)) != State.DEAD;
    }

    static State run(State start, byte[] bytes) {
        State s = start;
        for (byte b : bytes) {
            s = s.next(b & 0xFF);
        }
        return s;
    }

    /**
     * A random sentence of {@code grammar} of at most {@code maxBytes} bytes, or null if the walk ran
     * longer. At each byte: end here with probability {@code stop} if the text is complete, else a
     * random allowed byte, an ASCII one nine times out of ten when there is one (so strings end).
     */
    static String sample(Grammar grammar, SplittableRandom random, int maxBytes, double stop) {
        StateGraph graph = new StateGraph(grammar.nfa);
        State s = graph.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Integer> ascii = new ArrayList<>();
        List<Integer> other = new ArrayList<>();
        while (out.size() <= maxBytes) {
            ascii.clear();
            other.clear();
            for (int b = 0; b < 256; b++) {
                if (graph.allows(s, b)) {
                    (b < 0x80 ? ascii : other).add(b);
                }
            }
            if (s.accepting && (ascii.isEmpty() && other.isEmpty() || random.nextDouble() < stop)) {
                return out.toString(StandardCharsets.UTF_8);
            }
            List<Integer> from = !ascii.isEmpty() && (other.isEmpty() || random.nextInt(10) > 0) ? ascii : other;
            int b = from.get(random.nextInt(from.size()));
            out.write(b);
            s = s.next(b);
        }
        return null;
    }

    /** {@code count} random sentences (walks that ran too long are drawn again, up to a limit). */
    static List<String> samples(Grammar grammar, long seed, int count, int maxBytes, double stop) {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        for (int tries = 0; out.size() < count && tries < 20 * count; tries++) {
            String s = sample(grammar, random, maxBytes, stop);
            if (s != null) {
                out.add(s);
            }
        }
        if (out.size() < count) {
            throw new AssertionError("only " + out.size() + " of " + count + " random walks ended within " + maxBytes
                    + " bytes");
        }
        return out;
    }
}
