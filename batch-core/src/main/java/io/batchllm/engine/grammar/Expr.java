package io.batchllm.engine.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A grammar expression over bytes: the form every constraint (JSON Schema, regex, choice) is
 * compiled to before it becomes an automaton ({@link Nfa}). Bytes, not characters, because tokens are
 * byte strings that may end inside a multi-byte character.
 */
sealed interface Expr {
    /** Repetition without an upper bound. */
    int UNBOUNDED = -1;

    /** One byte out of a set. */
    record Bytes(ByteSet set) implements Expr {
    }

    /** The items one after the other; no items matches the empty string. */
    record Seq(List<Expr> items) implements Expr {
        public Seq {
            items = List.copyOf(items);
        }
    }

    /** Any one of the options (at least one). */
    record Alt(List<Expr> options) implements Expr {
        public Alt {
            options = List.copyOf(options);
            if (options.isEmpty()) {
                throw new IllegalArgumentException("an alternative needs at least one option");
            }
        }
    }

    /** {@code item} repeated {@code min} to {@code max} times ({@link #UNBOUNDED} for no limit). */
    record Repeat(Expr item, int min, int max) implements Expr {
        public Repeat {
            if (min < 0 || max != UNBOUNDED && max < min) {
                throw new IllegalArgumentException("repetition {" + min + "," + max + "}");
            }
        }
    }

    /** Rule {@code rule} of the grammar: how recursion (a {@code $ref} cycle, nested JSON) is written. */
    record Ref(int rule) implements Expr {
    }

    /** The empty string. */
    Expr EMPTY = new Seq(List.of());

    static Expr bytes(int lo, int hi) {
        return new Bytes(ByteSet.range(lo, hi));
    }

    /** The UTF-8 bytes of {@code text}. */
    static Expr literal(String text) {
        return literal(text.getBytes(StandardCharsets.UTF_8));
    }

    static Expr literal(byte[] bytes) {
        List<Expr> items = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            items.add(new Bytes(ByteSet.of(b & 0xFF)));
        }
        return items.size() == 1 ? items.getFirst() : new Seq(items);
    }

    static Expr seq(Expr... items) {
        return new Seq(List.of(items));
    }

    static Expr seq(List<Expr> items) {
        return items.size() == 1 ? items.getFirst() : new Seq(items);
    }

    static Expr alt(Expr... options) {
        return alt(List.of(options));
    }

    static Expr alt(List<Expr> options) {
        return options.size() == 1 ? options.getFirst() : new Alt(options);
    }

    static Expr optional(Expr item) {
        return new Repeat(item, 0, 1);
    }

    static Expr star(Expr item) {
        return new Repeat(item, 0, UNBOUNDED);
    }

    static Expr repeat(Expr item, int min, int max) {
        return min == 1 && max == 1 ? item : new Repeat(item, min, max);
    }
}
