package io.batchllm.engine.chat.jinja;

import io.batchllm.engine.chat.jinja.Token.Kind;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Jinja2's lexer with Hugging Face's settings ({@code trim_blocks=True}, {@code lstrip_blocks=True},
 * {@code keep_trailing_newline=False}), written out by hand from the rules of jinja2 3.1's
 * {@code lexer.py} so that whitespace comes out exactly as jinja2's does:
 *
 * <ul>
 *   <li>line endings ({@code \r\n}, {@code \r}, {@code \n}) become {@code \n}, and one newline at the
 *       very end of the template is dropped;</li>
 *   <li>a {@code -} just inside a tag strips all whitespace on that side, newlines included; after
 *       {@code -%}}, {@code -}}} and {@code -#}} this is part of the closing match, so the text after
 *       it starts where the whitespace ends (a comment that follows sees no line start);</li>
 *   <li>{@code trim_blocks}: one newline right after {@code %}} or {@code #}} is removed;</li>
 *   <li>{@code lstrip_blocks}: spaces and tabs between the line start and a {@code {%} or {@code {#}
 *       are removed, unless the tag opens with {@code +}; "line start" is a newline in the text before
 *       the tag, or, for text without one, the previous match having ended with a newline;</li>
 *   <li>inside a tag, {@code %}} or {@code }}} only close it when every bracket opened in it is closed.</li>
 * </ul>
 *
 * <p>Whitespace is Python's ({@code str.isspace}), not Java's. Not supported: line statements and
 * custom delimiters (Hugging Face uses neither).
 */
final class Lexer {
    /** Jinja2's operators, longest first, as its {@code operator_re} tries them. */
    private static final List<String> OPERATORS = List.of("//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*",
            "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";");

    private enum State { ROOT, BLOCK, VARIABLE }

    private final String source;
    private final int[] lineStarts;
    private final List<Token> tokens = new ArrayList<>();
    private final Deque<Character> brackets = new ArrayDeque<>();
    private int pos;
    private boolean lineStarting = true;

    private Lexer(String source) {
        this.source = normalize(source);
        this.lineStarts = lineStarts(this.source);
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.run();
        return lexer.tokens;
    }

    /** Newlines to {@code \n}, and without one trailing newline ({@code keep_trailing_newline=False}). */
    private static String normalize(String source) {
        StringBuilder out = new StringBuilder(source.length());
        for (int i = 0; i < source.length(); i++) {
            char c = source.charAt(i);
            if (c == '\r') {
                out.append('\n');
                if (i + 1 < source.length() && source.charAt(i + 1) == '\n') {
                    i++;
                }
            } else {
                out.append(c);
            }
        }
        if (!out.isEmpty() && out.charAt(out.length() - 1) == '\n') {
            out.setLength(out.length() - 1);
        }
        return out.toString();
    }

    private static int[] lineStarts(String s) {
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                starts.add(i + 1);
            }
        }
        return starts.stream().mapToInt(Integer::intValue).toArray();
    }

    private int lineAt(int offset) {
        int lo = 0;
        int hi = lineStarts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (lineStarts[mid] <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo + 1;
    }

    private void run() {
        State state = State.ROOT;
        while (true) {
            if (state == State.ROOT) {
                state = root();
                if (state == null) {
                    break;
                }
            } else if (!tagToken(state)) {
                state = State.ROOT;
            } else if (pos >= source.length()) {
                break; // inside an unclosed tag: the parser reports the unexpected end
            }
        }
        tokens.add(new Token(Kind.EOF, "", null, lineAt(source.length())));
    }

    /** Template data up to the next tag, and the tag's opening; null at the end of the source. */
    private State root() {
        int start = findTagStart(pos);
        if (start < 0) {
            if (pos < source.length()) {
                tokens.add(new Token(Kind.DATA, source.substring(pos), null, lineAt(pos)));
            }
            pos = source.length();
            return null;
        }
        char kind = source.charAt(start + 1);
        char sign = start + 2 < source.length() ? source.charAt(start + 2) : 0;
        boolean signed = sign == '-' || sign == '+';
        int rawEnd = kind == '%' ? rawBeginEnd(start) : -1;
        String text = source.substring(pos, start);
        if (sign == '-') {
            text = PyStrings.rstrip(text, null);
        } else if (sign != '+' && kind != '{') {
            text = lstripBlocks(text);
        }
        if (!text.isEmpty()) {
            tokens.add(new Token(Kind.DATA, text, null, lineAt(pos)));
        }
        if (rawEnd >= 0) {
            lineStarting = source.charAt(rawEnd - 1) == '\n';
            pos = rawEnd;
            raw(start);
            return State.ROOT;
        }
        pos = start + 2 + (signed ? 1 : 0);
        lineStarting = false;
        return switch (kind) {
            case '#' -> {
                comment(start);
                yield State.ROOT;
            }
            case '%' -> {
                tokens.add(new Token(Kind.BLOCK_BEGIN, "{%", null, lineAt(start)));
                yield State.BLOCK;
            }
            default -> {
                tokens.add(new Token(Kind.VARIABLE_BEGIN, "{{", null, lineAt(start)));
                yield State.VARIABLE;
            }
        };
    }

    private int findTagStart(int from) {
        for (int i = source.indexOf('{', from); i >= 0 && i + 1 < source.length(); i = source.indexOf('{', i + 1)) {
            char next = source.charAt(i + 1);
            if (next == '{' || next == '%' || next == '#') {
                return i;
            }
        }
        return -1;
    }

    /** {@code lstrip_blocks}: drops the whitespace between the line start and the tag. */
    private String lstripBlocks(String text) {
        int lineStart = text.lastIndexOf('\n') + 1;
        if ((lineStart > 0 || lineStarting) && lineStart < text.length()
                && PyStrings.isAllSpace(text, lineStart, text.length())) {
            return text.substring(0, lineStart);
        }
        return text;
    }

    /** The end of <code>&#123;% raw %&#125;</code> (with its trailing whitespace after {@code -%}}), or -1. */
    private int rawBeginEnd(int start) {
        int i = start + 2;
        if (i < source.length() && (source.charAt(i) == '-' || source.charAt(i) == '+')) {
            i++;
        }
        i = skipSpace(i);
        if (!source.startsWith("raw", i)) {
            return -1;
        }
        i = skipSpace(i + 3);
        if (source.startsWith("-%}", i)) {
            return skipSpace(i + 3);
        }
        return source.startsWith("%}", i) ? i + 2 : -1;
    }

    private int skipSpace(int i) {
        while (i < source.length() && PyStrings.isSpace(source.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The text of a raw block, up to and including its <code>&#123;% endraw %&#125;</code>. */
    private void raw(int tagStart) {
        for (int i = source.indexOf("{%", pos); i >= 0; i = source.indexOf("{%", i + 1)) {
            int j = i + 2;
            char sign = j < source.length() ? source.charAt(j) : 0;
            if (sign == '-' || sign == '+') {
                j++;
            }
            j = skipSpace(j);
            if (!source.startsWith("endraw", j)) {
                continue;
            }
            int end = blockEnd(skipSpace(j + 6));
            if (end < 0) {
                continue;
            }
            String text = source.substring(pos, i);
            if (sign == '-') {
                text = PyStrings.rstrip(text, null);
            } else if (sign != '+') {
                text = lstripBlocks(text);
            }
            if (!text.isEmpty()) {
                tokens.add(new Token(Kind.DATA, text, null, lineAt(pos)));
            }
            lineStarting = source.charAt(end - 1) == '\n';
            pos = end;
            return;
        }
        throw JinjaException.syntax("Missing end of raw directive", lineAt(tagStart));
    }

    /** A comment: skipped up to its closing, which strips or trims like a block's. */
    private void comment(int tagStart) {
        for (int i = source.indexOf("#}", pos); i >= 0; i = source.indexOf("#}", i + 1)) {
            int end;
            char before = i > pos ? source.charAt(i - 1) : 0;
            if (before == '-') {
                end = skipSpace(i + 2);
            } else if (before == '+') {
                end = i + 2;
            } else {
                end = i + 2 < source.length() && source.charAt(i + 2) == '\n' ? i + 3 : i + 2;
            }
            lineStarting = source.charAt(end - 1) == '\n';
            pos = end;
            return;
        }
        throw JinjaException.syntax("Missing end of comment tag", lineAt(tagStart));
    }

    /**
     * The end of a block's closing ({@code +%}}, {@code -%}} and the whitespace after it, or {@code %}}
     * and one newline) starting at {@code i}, or -1.
     */
    private int blockEnd(int i) {
        if (source.startsWith("+%}", i)) {
            return i + 3;
        }
        if (source.startsWith("-%}", i)) {
            return skipSpace(i + 3);
        }
        if (source.startsWith("%}", i)) {
            return i + 2 < source.length() && source.charAt(i + 2) == '\n' ? i + 3 : i + 2;
        }
        return -1;
    }

    private int variableEnd(int i) {
        if (source.startsWith("-}}", i)) {
            return skipSpace(i + 3);
        }
        return source.startsWith("}}", i) ? i + 2 : -1;
    }

    /** One token inside a tag; false when the tag closed. */
    private boolean tagToken(State state) {
        if (brackets.isEmpty()) {
            int end = state == State.BLOCK ? blockEnd(pos) : variableEnd(pos);
            if (end >= 0) {
                tokens.add(new Token(state == State.BLOCK ? Kind.BLOCK_END : Kind.VARIABLE_END,
                        source.substring(pos, end), null, lineAt(pos)));
                lineStarting = source.charAt(end - 1) == '\n';
                pos = end;
                return false;
            }
        }
        if (pos >= source.length()) {
            return true;
        }
        int start = pos;
        char c = source.charAt(pos);
        if (PyStrings.isSpace(c)) {
            pos = skipSpace(pos);
        } else if (!number() && !name() && !string()) {
            operator(c, start);
        }
        lineStarting = source.charAt(pos - 1) == '\n';
        return true;
    }

    private boolean number() {
        int start = pos;
        if (start < source.length() && isDigit(source.charAt(start))
                && (start == 0 || source.charAt(start - 1) != '.')) {
            int end = floatEnd(start);
            if (end > 0) {
                String literal = source.substring(start, end);
                tokens.add(new Token(Kind.FLOAT, literal, Double.parseDouble(literal.replace("_", "")), lineAt(start)));
                pos = end;
                return true;
            }
        }
        int end = integerEnd(start);
        if (end < 0) {
            return false;
        }
        String literal = source.substring(start, end);
        String digits = literal.replace("_", "").toLowerCase();
        BigInteger value;
        if (digits.startsWith("0x")) {
            value = new BigInteger(digits.substring(2), 16);
        } else if (digits.startsWith("0o")) {
            value = new BigInteger(digits.substring(2), 8);
        } else if (digits.startsWith("0b")) {
            value = new BigInteger(digits.substring(2), 2);
        } else {
            value = new BigInteger(digits);
        }
        tokens.add(new Token(Kind.INTEGER, literal, Py.normalize(value), lineAt(start)));
        pos = end;
        return true;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** {@code (\d+_)*\d+}: digits with single underscores between them; the end, or -1. */
    private int digitsEnd(int i) {
        if (i >= source.length() || !isDigit(source.charAt(i))) {
            return -1;
        }
        while (true) {
            while (i < source.length() && isDigit(source.charAt(i))) {
                i++;
            }
            if (i + 1 < source.length() && source.charAt(i) == '_' && isDigit(source.charAt(i + 1))) {
                i++;
            } else {
                return i;
            }
        }
    }

    /** jinja2's {@code float_re}: digits, then a fraction and/or an exponent; the end, or -1. */
    private int floatEnd(int start) {
        int i = digitsEnd(start);
        int fraction = -1;
        if (i < source.length() && source.charAt(i) == '.') {
            fraction = digitsEnd(i + 1);
        }
        int afterFraction = fraction > 0 ? fraction : i;
        int exponent = exponentEnd(afterFraction);
        if (exponent > 0) {
            return exponent;
        }
        return fraction;
    }

    private int exponentEnd(int i) {
        if (i >= source.length() || (source.charAt(i) != 'e' && source.charAt(i) != 'E')) {
            return -1;
        }
        i++;
        if (i < source.length() && (source.charAt(i) == '+' || source.charAt(i) == '-')) {
            i++;
        }
        return digitsEnd(i);
    }

    /** jinja2's {@code integer_re}: binary, octal, hex, decimal or zeros; the end, or -1. */
    private int integerEnd(int start) {
        if (start >= source.length() || !isDigit(source.charAt(start))) {
            return -1;
        }
        char c = source.charAt(start);
        if (c == '0' && start + 1 < source.length()) {
            char base = Character.toLowerCase(source.charAt(start + 1));
            String allowed = base == 'b' ? "01" : base == 'o' ? "01234567" : base == 'x' ? "0123456789abcdef" : null;
            if (allowed != null) {
                int end = radixDigitsEnd(start + 2, allowed);
                if (end > start + 2) {
                    return end;
                }
            }
        }
        if (c == '0') {
            return radixDigitsEnd(start + 1, "0");
        }
        return radixDigitsEnd(start + 1, "0123456789");
    }

    /** {@code (_?[allowed])*} from {@code i}. */
    private int radixDigitsEnd(int i, String allowed) {
        while (true) {
            int j = i < source.length() && source.charAt(i) == '_' ? i + 1 : i;
            if (j < source.length() && allowed.indexOf(Character.toLowerCase(source.charAt(j))) >= 0) {
                i = j + 1;
            } else {
                return i;
            }
        }
    }

    private boolean name() {
        int start = pos;
        int i = start;
        while (i < source.length()) {
            int cp = source.codePointAt(i);
            if (cp == '_' || Character.isLetterOrDigit(cp)
                    || Character.isUnicodeIdentifierPart(cp) && !Character.isIdentifierIgnorable(cp)) {
                i += Character.charCount(cp);
            } else {
                break;
            }
        }
        if (i == start) {
            return false;
        }
        String name = source.substring(start, i);
        int first = name.codePointAt(0);
        if (first != '_' && !Character.isUnicodeIdentifierStart(first)) {
            throw JinjaException.syntax("Invalid character in identifier", lineAt(start));
        }
        tokens.add(new Token(Kind.NAME, name, null, lineAt(start)));
        pos = i;
        return true;
    }

    private boolean string() {
        char quote = source.charAt(pos);
        if (quote != '\'' && quote != '"') {
            return false;
        }
        int i = pos + 1;
        while (i < source.length() && source.charAt(i) != quote) {
            i += source.charAt(i) == '\\' ? 2 : 1;
        }
        if (i >= source.length()) {
            return false; // no closing quote: jinja2 reports the quote as an unexpected character
        }
        tokens.add(new Token(Kind.STRING, unescape(source.substring(pos + 1, i), lineAt(pos)), null, lineAt(pos)));
        pos = i + 1;
        return true;
    }

    private void operator(char c, int start) {
        for (String op : OPERATORS) {
            if (source.startsWith(op, pos)) {
                balance(op, start);
                tokens.add(new Token(Kind.OPERATOR, op, null, lineAt(start)));
                pos += op.length();
                return;
            }
        }
        throw JinjaException.syntax("unexpected char " + PyRepr.string(String.valueOf(c)) + " at " + pos, lineAt(start));
    }

    private void balance(String op, int start) {
        switch (op) {
            case "{" -> brackets.push('}');
            case "(" -> brackets.push(')');
            case "[" -> brackets.push(']');
            case "}", ")", "]" -> {
                if (brackets.isEmpty()) {
                    throw JinjaException.syntax("unexpected '" + op + "'", lineAt(start));
                }
                char expected = brackets.pop();
                if (expected != op.charAt(0)) {
                    throw JinjaException.syntax("unexpected '" + op + "', expected '" + expected + "'", lineAt(start));
                }
            }
            default -> {
                // not a bracket
            }
        }
    }

    /**
     * A string literal's value, as jinja2 gets it with Python's {@code unicode-escape} codec (after
     * turning non-ASCII characters into backslash escapes): Python's escapes, a backslash before a
     * newline joins the lines, unknown escapes stay as written, and a backslash before a non-ASCII
     * character leaves that character's escape as text.
     */
    static String unescape(String s, int line) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                out.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case '\n' -> { }
                case '\\' -> out.append('\\');
                case '\'' -> out.append('\'');
                case '"' -> out.append('"');
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000B');
                case 'x' -> i = hexEscape(s, i, 2, out, "truncated \\xXX escape", line);
                case 'u' -> i = hexEscape(s, i, 4, out, "truncated \\uXXXX escape", line);
                case 'U' -> i = hexEscape(s, i, 8, out, "truncated \\UXXXXXXXX escape", line);
                case 'N' -> i = namedEscape(s, i, out, line);
                default -> {
                    if (e >= '0' && e <= '7') {
                        int end = i;
                        while (end < s.length() && end < i + 3 && s.charAt(end) >= '0' && s.charAt(end) <= '7') {
                            end++;
                        }
                        out.append((char) Integer.parseInt(s.substring(i, end), 8));
                        i = end - 1;
                    } else if (e > 0x7F) {
                        int cp = s.codePointAt(i);
                        out.append(PyRepr.backslashEscape(cp)); // the escape's own backslash is the one written
                        i += Character.charCount(cp) - 1;
                    } else {
                        out.append('\\').append(e);
                    }
                }
            }
        }
        return out.toString();
    }

    private static int hexEscape(String s, int at, int digits, StringBuilder out, String error, int line) {
        int start = at + 1;
        if (start + digits > s.length()) {
            throw JinjaException.syntax(error, line);
        }
        String hex = s.substring(start, start + digits);
        if (!hex.chars().allMatch(ch -> Character.digit(ch, 16) >= 0 && ch < 0x80)) {
            throw JinjaException.syntax(error, line);
        }
        long cp = Long.parseLong(hex, 16);
        if (cp > Character.MAX_CODE_POINT) {
            throw JinjaException.syntax("illegal Unicode character", line);
        }
        out.appendCodePoint((int) cp);
        return start + digits - 1;
    }

    private static int namedEscape(String s, int at, StringBuilder out, int line) {
        int close = s.indexOf('}', at);
        if (at + 1 >= s.length() || s.charAt(at + 1) != '{' || close < 0) {
            throw JinjaException.syntax("malformed \\N character escape", line);
        }
        try {
            out.appendCodePoint(Character.codePointOf(s.substring(at + 2, close)));
        } catch (IllegalArgumentException e) {
            throw JinjaException.syntax("unknown Unicode character name", line);
        }
        return close;
    }
}
