package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lexical pieces of JSON text as byte expressions: white space, strings (any, or of code points
 * from a set, or any but a few names), numbers, literals.
 *
 * <p><b>Bounded by design.</b> Unbounded white space or digits would let a model loop on them to
 * {@code max_tokens}: white space between tokens is, as in llama.cpp's JSON grammars, one space or
 * one line break followed by at most {@value #MAX_INDENT} spaces and tabs (what JSON printers write,
 * compact or pretty, ten levels deep at two spaces), an integer part at most {@value #MAX_DIGITS}
 * digits, a fraction at most {@value #MAX_DIGITS}, an exponent at most 2 digits. Strings are bounded
 * only by the schema's {@code maxLength}.
 *
 * <p>Inside strings every UTF-8 character but {@code "}, {@code \} and the controls is written as
 * itself, and every escape JSON has is allowed (<code>&#92;uXXXX</code> only for non-surrogates, so that each
 * escape is one code point and {@code minLength}/{@code maxLength} count right). Where a string's
 * characters are constrained (a {@code pattern}, a {@code format}, the names an additional property
 * must avoid), each code point has one spelling only: itself, or {@code \"}, {@code \\}, the short
 * escapes of the controls, <code>&#92;u00XX</code> for the other controls.
 */
final class JsonText {
    static final int MAX_INDENT = 20;
    static final int MAX_DIGITS = 16;

    /** Optional white space between JSON tokens: a space, or a line break (CR LF too) and an indent. */
    static final Expr WS = Expr.optional(Expr.alt(Expr.literal(" "), Expr.seq(Expr.optional(Expr.literal("\r")),
            Expr.literal("\n"), new Expr.Repeat(Expr.alt(Expr.literal(" "), Expr.literal("\t")), 0, MAX_INDENT))));
    static final Expr QUOTE = Expr.literal("\"");

    private static final CodePointSet RAW = CodePointSet.of(0x20, CodePointSet.MAX)
            .minus(CodePointSet.ofChars("\"\\"));
    private static final Expr HEX = Expr.alt(Expr.bytes('0', '9'), Expr.bytes('a', 'f'), Expr.bytes('A', 'F'));
    private static final Expr HEX_NOT_D = Expr.alt(Expr.bytes('0', '9'), Expr.bytes('a', 'c'), Expr.bytes('e', 'f'),
            Expr.bytes('A', 'C'), Expr.bytes('E', 'F'));
    /** <code>&#92;uXXXX</code> outside the surrogates D800–DFFF. */
    private static final Expr UNICODE_ESCAPE = Expr.seq(Expr.literal("\\u"), Expr.alt(
            Expr.seq(HEX_NOT_D, HEX, HEX, HEX),
            Expr.seq(Expr.alt(Expr.literal("d"), Expr.literal("D")), Expr.bytes('0', '7'), HEX, HEX)));
    /** One character of a JSON string, in any spelling. */
    static final Expr STRING_CHAR = Expr.alt(Utf8.encode(RAW),
            Expr.seq(Expr.literal("\\"), Expr.alt(Expr.literal("\""), Expr.literal("\\"), Expr.literal("/"),
                    Expr.literal("b"), Expr.literal("f"), Expr.literal("n"), Expr.literal("r"), Expr.literal("t"))),
            UNICODE_ESCAPE);

    private static final Expr NONZERO_DIGIT = Expr.bytes('1', '9');
    private static final Expr DIGIT = Expr.bytes('0', '9');
    /** An integer part: 0, or up to {@link #MAX_DIGITS} digits without a leading zero. */
    private static final Expr NATURAL = Expr.alt(Expr.literal("0"),
            Expr.seq(NONZERO_DIGIT, new Expr.Repeat(DIGIT, 0, MAX_DIGITS - 1)));
    /** Any integer a JSON integer schema takes, within the digit bound. */
    static final Expr INTEGER = Expr.seq(Expr.optional(Expr.literal("-")), NATURAL);
    /** Digits of a fraction, at least one. */
    static final Expr FRACTION_DIGITS = new Expr.Repeat(DIGIT, 1, MAX_DIGITS);
    /** Any JSON number within the digit bounds. */
    static final Expr NUMBER = Expr.seq(INTEGER, Expr.optional(Expr.seq(Expr.literal("."), FRACTION_DIGITS)),
            Expr.optional(Expr.seq(Expr.alt(Expr.literal("e"), Expr.literal("E")),
                    Expr.optional(Expr.alt(Expr.literal("+"), Expr.literal("-"))), new Expr.Repeat(DIGIT, 1, 2))));
    /** Fraction digits that are not all zeros (the part of a number strictly between two integers). */
    static final Expr NONZERO_FRACTION = Expr.seq(new Expr.Repeat(Expr.literal("0"), 0, MAX_DIGITS - 1),
            NONZERO_DIGIT, new Expr.Repeat(DIGIT, 0, MAX_DIGITS - 1));

    private static final Map<Integer, String> SHORT_ESCAPES = Map.of((int) '"', "\\\"", (int) '\\', "\\\\",
            (int) '\b', "\\b", (int) '\f', "\\f", (int) '\n', "\\n", (int) '\r', "\\r", (int) '\t', "\\t");

    private JsonText() {
    }

    /** A JSON string of any characters, {@code min} to {@code max} of them ({@link Expr#UNBOUNDED}). */
    static Expr string(int min, int max) {
        return Expr.seq(QUOTE, new Expr.Repeat(STRING_CHAR, min, max), QUOTE);
    }

    /** One code point of {@code set}, as it is spelled inside a JSON string (one spelling each). */
    static Expr stringChars(CodePointSet set) {
        List<Expr> options = new ArrayList<>();
        CodePointSet raw = set.intersect(RAW);
        if (!raw.isEmpty()) {
            options.add(Utf8.encode(raw));
        }
        for (int c : escapedMembers(set)) {
            options.add(Expr.literal(escape(c)));
        }
        if (options.isEmpty()) {
            throw new GrammarException("a character class that matches no character");
        }
        return Expr.alt(options);
    }

    private static List<Integer> escapedMembers(CodePointSet set) {
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < 0x20; c++) {
            if (set.contains(c)) {
                out.add(c);
            }
        }
        for (int c : new int[] {'"', '\\'}) {
            if (set.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** The one spelling of an escaped code point. */
    private static String escape(int c) {
        String s = SHORT_ESCAPES.get(c);
        return s != null ? s : String.format("\\u%04x", c);
    }

    /**
     * A JSON string whose value is none of {@code names}, spelled canonically: a trie over the names'
     * code points where, at each node, the string may end (unless a name ends there), continue along
     * a name, or leave every name with another character and go on freely.
     */
    static Expr stringExcept(List<String> names) {
        return Expr.seq(QUOTE, excluding(names, 0), QUOTE);
    }

    /** The rest of a string after {@code depth} code points shared with every name of {@code names}. */
    private static Expr excluding(List<String> names, int depth) {
        TreeMap<Integer, List<String>> byNext = new TreeMap<>();
        boolean nameEndsHere = false;
        for (String name : names) {
            int[] cps = name.codePoints().toArray();
            if (cps.length == depth) {
                nameEndsHere = true;
            } else {
                byNext.computeIfAbsent(cps[depth], k -> new ArrayList<>()).add(name);
            }
        }
        List<Expr> options = new ArrayList<>();
        if (!nameEndsHere) {
            options.add(Expr.EMPTY);
        }
        CodePointSet others = CodePointSet.ALL;
        for (Map.Entry<Integer, List<String>> e : byNext.entrySet()) {
            others = others.minus(CodePointSet.of(e.getKey()));
            options.add(Expr.seq(stringChars(CodePointSet.of(e.getKey())), excluding(e.getValue(), depth + 1)));
        }
        options.add(Expr.seq(stringChars(others), Expr.star(stringChars(CodePointSet.ALL))));
        return Expr.alt(options);
    }
}
