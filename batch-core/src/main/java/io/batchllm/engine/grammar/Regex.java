package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The regular expressions of {@code guided_regex} and of JSON Schema's {@code pattern}, parsed into a
 * tree over code point sets and lowered to a byte {@link Expr}. The syntax is the part that
 * ECMAScript (JSON Schema's regex dialect) and {@code java.util.regex} (what Java validators run)
 * read alike: literals and escaped punctuation, {@code .}, classes {@code [a-z]} and {@code [^…]},
 * {@code \d \w \s} and their negations, <code>\t \n \r \f \v \0 \xHH &#92;uHHHH</code>, groups {@code (…)},
 * {@code (?:…)}, {@code (?<name>…)}, {@code (?P<name>…)}, alternation, and the quantifiers
 * {@code * + ? {n} {n,} {n,m}} (lazy ones too: laziness does not change what matches). Where the
 * dialects differ, the intersection is generated so that both accept the text: {@code \s} is ASCII
 * white space, {@code \S} excludes all Unicode white space, {@code .} excludes every line terminator
 * either dialect knows.
 *
 * <p>Refused with a {@link GrammarException} naming the construct and its position: lookaround,
 * backreferences, word boundaries, {@code \p{…}} classes, inline flags, possessive quantifiers, and
 * {@code ^}/{@code $} anywhere but at the start and end of the pattern.
 */
final class Regex {
    /** A parsed pattern: its top-level alternatives, and which of them are anchored. */
    record Parsed(List<Node> alternatives, boolean firstAnchoredAtStart, boolean lastAnchoredAtEnd) {
    }

    sealed interface Node {
    }

    record Chars(CodePointSet set) implements Node {
    }

    record Concat(List<Node> items) implements Node {
    }

    record Or(List<Node> options) implements Node {
    }

    record Rep(Node item, int min, int max) implements Node {
    }

    /** Largest count in {@code {n,m}}. */
    static final int MAX_COUNT = 10_000;

    /** ASCII white space, which ECMAScript's and Java's {@code \s} both match. */
    static final CodePointSet ASCII_SPACE = CodePointSet.ofChars(" \t\n\u000B\f\r");
    /** Every code point either dialect's {@code \s} matches. */
    static final CodePointSet ANY_SPACE = ASCII_SPACE.union(CodePointSet.ofChars(
            "\u0085\u00A0\u1680\u2028\u2029\u202F\u205F\u3000\uFEFF\u001C\u001D\u001E\u001F"))
            .union(CodePointSet.of(0x2000, 0x200A));
    static final CodePointSet DIGIT = CodePointSet.of('0', '9');
    static final CodePointSet WORD = DIGIT.union(CodePointSet.of('A', 'Z')).union(CodePointSet.of('a', 'z'))
            .union(CodePointSet.of('_'));
    /** What {@code .} matches in both dialects: anything but a line terminator of either. */
    static final CodePointSet DOT = CodePointSet.ALL.minus(CodePointSet.ofChars("\n\r\u0085\u2028\u2029"));

    private final String pattern;
    private final int[] cps;
    private int pos;

    private Regex(String pattern) {
        this.pattern = pattern;
        this.cps = pattern.codePoints().toArray();
    }

    /**
     * Parses {@code pattern}.
     *
     * @throws GrammarException for a construct outside the supported syntax, naming it
     */
    static Parsed parse(String pattern) {
        return new Regex(pattern).parseTop();
    }

    /** The expression of {@code node}, each character set encoded by {@code chars}. */
    static Expr lower(Node node, Function<CodePointSet, Expr> chars) {
        return switch (node) {
            case Chars c -> chars.apply(c.set());
            case Concat c -> Expr.seq(c.items().stream().map(n -> lower(n, chars)).toList());
            case Or o -> Expr.alt(o.options().stream().map(n -> lower(n, chars)).toList());
            case Rep r -> Expr.repeat(lower(r.item(), chars), r.min(), r.max());
        };
    }

    /**
     * The expression of texts matching {@code pattern} as a whole: anchors change nothing, as in
     * vLLM's {@code guided_regex}.
     */
    static Expr fullMatch(String pattern, Function<CodePointSet, Expr> chars) {
        Parsed p = parse(pattern);
        return Expr.alt(p.alternatives().stream().map(n -> lower(n, chars)).toList());
    }

    /**
     * The expression of texts in which {@code pattern} matches somewhere, as JSON Schema's
     * {@code pattern} is applied: an alternative not anchored at the start may have anything before
     * it, one not anchored at the end anything after it.
     */
    static Expr search(String pattern, Function<CodePointSet, Expr> chars) {
        Parsed p = parse(pattern);
        Expr any = Expr.star(chars.apply(CodePointSet.ALL));
        List<Expr> options = new ArrayList<>();
        int last = p.alternatives().size() - 1;
        for (int i = 0; i <= last; i++) {
            boolean atStart = i == 0 && p.firstAnchoredAtStart();
            boolean atEnd = i == last && p.lastAnchoredAtEnd();
            options.add(Expr.seq(atStart ? Expr.EMPTY : any, lower(p.alternatives().get(i), chars),
                    atEnd ? Expr.EMPTY : any));
        }
        return Expr.alt(options);
    }

    private Parsed parseTop() {
        boolean start = peekIs('^');
        if (start) {
            pos++;
        }
        List<Node> alternatives = new ArrayList<>();
        alternatives.add(parseConcat(true));
        while (peekIs('|')) {
            pos++;
            alternatives.add(parseConcat(true));
        }
        boolean end = false;
        if (peekIs('$')) {
            pos++;
            end = true;
        }
        if (pos < cps.length) {
            throw error(cps[pos] == ')' ? "an unmatched )" : "^ or $ inside the pattern (they are supported only at"
                    + " its start and end)");
        }
        return new Parsed(alternatives, start, end);
    }

    private Node parseAlternation() {
        List<Node> options = new ArrayList<>();
        options.add(parseConcat(false));
        while (peekIs('|')) {
            pos++;
            options.add(parseConcat(false));
        }
        return options.size() == 1 ? options.getFirst() : new Or(options);
    }

    /** Atoms up to {@code |}, {@code )} or the end; at the top level a final {@code $} ends it too. */
    private Node parseConcat(boolean top) {
        List<Node> items = new ArrayList<>();
        while (pos < cps.length) {
            int c = cps[pos];
            if (c == '|' || c == ')') {
                break;
            }
            if (c == '$' && top && (pos == cps.length - 1)) {
                break;
            }
            Node atom = parseAtom();
            items.add(parseQuantifier(atom));
        }
        return items.size() == 1 ? items.getFirst() : new Concat(items);
    }

    private Node parseAtom() {
        int c = cps[pos];
        switch (c) {
            case '(' -> {
                return parseGroup();
            }
            case '[' -> {
                pos++;
                return new Chars(parseClass());
            }
            case '.' -> {
                pos++;
                return new Chars(DOT);
            }
            case '\\' -> {
                pos++;
                return new Chars(parseEscape(false));
            }
            case '*', '+', '?', '{' -> throw error("a quantifier " + Character.toString(c) + " with nothing to repeat"
                    + (c == '{' ? " (write \\{ for a literal brace)" : ""));
            case '^', '$' -> throw error("^ or $ inside the pattern (they are supported only at its start and end)");
            default -> {
                pos++;
                return new Chars(CodePointSet.of(c));
            }
        }
    }

    private Node parseGroup() {
        int open = pos;
        pos++;
        if (peekIs('?')) {
            String rest = pattern.substring(pattern.offsetByCodePoints(0, pos));
            if (rest.startsWith("?:")) {
                pos += 2;
            } else if (rest.startsWith("?=") || rest.startsWith("?!") || rest.startsWith("?<=")
                    || rest.startsWith("?<!")) {
                pos = open;
                throw error("lookaround (" + rest.substring(0, rest.startsWith("?<") ? 3 : 2) + "…)");
            } else if (rest.startsWith("?<") || rest.startsWith("?P<")) {
                int close = rest.indexOf('>');
                if (close < 0) {
                    throw error("a group name without >");
                }
                pos += rest.substring(0, close + 1).codePointCount(0, close + 1);
            } else {
                pos = open;
                throw error("the group kind (?" + (rest.length() > 1 ? rest.substring(1, 2) : "")
                        + " (inline flags and other extensions)");
            }
        }
        Node inner = parseAlternation();
        if (!peekIs(')')) {
            pos = open;
            throw error("a ( without its )");
        }
        pos++;
        return inner;
    }

    private Node parseQuantifier(Node atom) {
        if (pos >= cps.length) {
            return atom;
        }
        int min;
        int max;
        int c = cps[pos];
        if (c == '*') {
            min = 0;
            max = Expr.UNBOUNDED;
            pos++;
        } else if (c == '+') {
            min = 1;
            max = Expr.UNBOUNDED;
            pos++;
        } else if (c == '?') {
            min = 0;
            max = 1;
            pos++;
        } else if (c == '{') {
            int[] counts = parseCounts();
            min = counts[0];
            max = counts[1];
        } else {
            return atom;
        }
        if (peekIs('?')) {
            pos++; // lazy: matches the same texts
        } else if (peekIs('+')) {
            throw error("a possessive quantifier (" + Character.toString(c) + "+)");
        }
        if (pos < cps.length && (cps[pos] == '*' || cps[pos] == '+' || cps[pos] == '?' || cps[pos] == '{')) {
            throw error("a quantifier after a quantifier");
        }
        return new Rep(atom, min, max);
    }

    /** {@code {n}}, {@code {n,}} or {@code {n,m}} at {@link #pos}. */
    private int[] parseCounts() {
        int start = pos;
        pos++;
        int min = parseNumber();
        int max = min;
        if (peekIs(',')) {
            pos++;
            max = peekIs('}') ? Expr.UNBOUNDED : parseNumber();
        }
        if (min < 0 || !peekIs('}') || max != Expr.UNBOUNDED && max < 0) {
            pos = start;
            throw error("a { that does not start a repetition like {2}, {2,} or {2,5} (write \\{ for a literal brace)");
        }
        pos++;
        if (max != Expr.UNBOUNDED && max < min) {
            pos = start;
            throw error("a repetition {" + min + "," + max + "} whose maximum is below its minimum");
        }
        if (min > MAX_COUNT || max > MAX_COUNT) {
            pos = start;
            throw error("a repetition count above " + MAX_COUNT);
        }
        return new int[] {min, max};
    }

    private int parseNumber() {
        int start = pos;
        long value = 0;
        while (pos < cps.length && cps[pos] >= '0' && cps[pos] <= '9') {
            value = Math.min(value * 10 + (cps[pos++] - '0'), Integer.MAX_VALUE);
        }
        return pos == start ? -1 : (int) value;
    }

    /** The class after its {@code [}, up to and including its {@code ]}. */
    private CodePointSet parseClass() {
        int open = pos - 1;
        boolean negated = peekIs('^');
        if (negated) {
            pos++;
        }
        if (peekIs(']')) {
            throw error("a ] right after [ or [^ (ECMAScript and Java read it differently; write \\])");
        }
        CodePointSet set = CodePointSet.EMPTY;
        while (true) {
            if (pos >= cps.length) {
                pos = open;
                throw error("a [ without its ]");
            }
            int c = cps[pos];
            if (c == ']') {
                pos++;
                break;
            }
            if (c == '[') {
                throw error("a [ inside a class (Java reads it as a nested class; write \\[)");
            }
            if (c == '&' && pos + 1 < cps.length && cps[pos + 1] == '&') {
                throw error("&& inside a class (class intersection)");
            }
            CodePointSet item = classAtom();
            if (peekIs('-') && pos + 1 < cps.length && cps[pos + 1] != ']') {
                pos++;
                CodePointSet upper = classAtom();
                if (!isSingle(item) || !isSingle(upper)) {
                    throw error("a range in a class whose end is a set like \\d");
                }
                if (item.lo(0) > upper.lo(0)) {
                    throw error("a class range whose start is above its end");
                }
                item = CodePointSet.of(item.lo(0), upper.lo(0));
            }
            set = set.union(item);
        }
        return negated ? set.complement() : set;
    }

    private CodePointSet classAtom() {
        int c = cps[pos++];
        if (c == '\\') {
            return parseEscape(true);
        }
        return CodePointSet.of(c);
    }

    private static boolean isSingle(CodePointSet s) {
        return s.rangeCount() == 1 && s.lo(0) == s.hi(0);
    }

    /** The escape after a backslash. */
    private CodePointSet parseEscape(boolean inClass) {
        if (pos >= cps.length) {
            throw error("a \\ at the end of the pattern");
        }
        int c = cps[pos++];
        switch (c) {
            case 'd':
                return DIGIT;
            case 'D':
                return DIGIT.complement();
            case 'w':
                return WORD;
            case 'W':
                return WORD.complement();
            case 's':
                return ASCII_SPACE;
            case 'S':
                return ANY_SPACE.complement();
            case 't':
                return CodePointSet.of('\t');
            case 'n':
                return CodePointSet.of('\n');
            case 'r':
                return CodePointSet.of('\r');
            case 'f':
                return CodePointSet.of('\f');
            case 'v':
                return CodePointSet.of(0x0B);
            case '0':
                if (pos < cps.length && cps[pos] >= '0' && cps[pos] <= '9') {
                    throw error("an octal escape \\0" + Character.toString(cps[pos]));
                }
                return CodePointSet.of(0);
            case 'x':
                return CodePointSet.of(hex(2));
            case 'u':
                return CodePointSet.of(unicodeEscape());
            case 'b':
                throw error(inClass ? "\\b inside a class" : "a word boundary \\b");
            case 'B':
                throw error("a word boundary \\B");
            case 'p', 'P':
                throw error("a Unicode property class \\" + Character.toString(c) + "{…}");
            case 'k':
                throw error("a named backreference \\k");
            default:
                if (c >= '1' && c <= '9') {
                    throw error("a backreference \\" + Character.toString(c));
                }
                if (Character.isLetterOrDigit(c)) {
                    throw error("the escape \\" + Character.toString(c));
                }
                return CodePointSet.of(c);
        }
    }

    /** After <code>&#92;u</code>: four hex digits, a surrogate pair written as two escapes joined. */
    private int unicodeEscape() {
        int unit = hex(4);
        if (Character.isHighSurrogate((char) unit) && pos + 1 < cps.length && cps[pos] == '\\' && cps[pos + 1] == 'u') {
            pos += 2;
            int low = hex(4);
            if (Character.isLowSurrogate((char) low)) {
                return Character.toCodePoint((char) unit, (char) low);
            }
        }
        if (Character.isSurrogate((char) unit)) {
            throw error("a lone surrogate \\u" + Integer.toHexString(unit));
        }
        return unit;
    }

    private int hex(int digits) {
        int value = 0;
        for (int i = 0; i < digits; i++) {
            int d = pos < cps.length ? Character.digit(cps[pos], 16) : -1;
            if (d < 0) {
                throw error("an escape that needs " + digits + " hex digits");
            }
            value = value * 16 + d;
            pos++;
        }
        return value;
    }

    private boolean peekIs(int c) {
        return pos < cps.length && cps[pos] == c;
    }

    private GrammarException error(String construct) {
        return new GrammarException("the regex " + quoted(pattern) + " uses " + construct + " at character "
                + Math.min(pos, cps.length) + ", which is not supported");
    }

    private static String quoted(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
