package io.batchllm.engine.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Python {@code str} semantics on Java strings: characters are code points (an emoji is one, not
 * two), whitespace is Python's {@code str.isspace} set (which includes U+001C–U+001F, U+0085 and
 * the Unicode spaces, unlike Java's {@code trim} or {@code isWhitespace}), and the methods
 * templates call ({@code strip}, {@code split}, {@code title}, ...) behave as in CPython.
 */
final class PyStrings {
    private PyStrings() {
    }

    /** Python's {@code str.isspace()} for one character. */
    static boolean isSpace(int c) {
        return c >= 0x09 && c <= 0x0D || c >= 0x1C && c <= 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || c >= 0x2000 && c <= 0x200A || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    static boolean isAllSpace(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isSpace(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Python's line boundaries ({@code str.splitlines}). */
    private static boolean isLineBreak(int c) {
        return c >= 0x0A && c <= 0x0D || c >= 0x1C && c <= 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
    }

    private static boolean hasSurrogates(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    static long length(String s) {
        return hasSurrogates(s) ? s.codePointCount(0, s.length()) : s.length();
    }

    /** The characters of {@code s}, one string per code point. */
    static List<Object> characters(String s) {
        List<Object> out = new ArrayList<>(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            out.add(new String(Character.toChars(cp)));
            i += Character.charCount(cp);
        }
        return out;
    }

    static int[] codePoints(String s) {
        return s.codePoints().toArray();
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    static boolean contains(String s, Object item) {
        if (!Py.isString(item)) {
            throw JinjaException.typeError("'in <string>' requires string as left operand, not " + Py.typeName(item));
        }
        return s.contains(Py.text(item));
    }

    // --- stripping ---

    /** Python's {@code strip}/{@code lstrip}/{@code rstrip}; {@code chars} null means whitespace. */
    static String strip(String s, String chars, boolean leading, boolean trailing) {
        int start = 0;
        int end = s.length();
        while (leading && start < end) {
            int cp = s.codePointAt(start);
            if (!stripped(cp, chars)) {
                break;
            }
            start += Character.charCount(cp);
        }
        while (trailing && end > start) {
            int cp = s.codePointBefore(end);
            if (!stripped(cp, chars)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(start, end);
    }

    static String rstrip(String s, String chars) {
        return strip(s, chars, false, true);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(new String(Character.toChars(cp))) >= 0;
    }

    // --- splitting ---

    /** Python's {@code str.split(sep=None, maxsplit=-1)}. */
    static List<Object> split(String s, String sep, long maxSplit) {
        List<Object> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i == n) {
                    return parts;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(s.substring(i));
                    return parts;
                }
                int start = i;
                while (i < n && !isSpace(s.charAt(i))) {
                    i++;
                }
                parts.add(s.substring(start, i));
            }
        }
        if (sep.isEmpty()) {
            throw JinjaException.runtime("ValueError", "empty separator");
        }
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    /** Python's {@code str.rsplit(sep=None, maxsplit=-1)}. */
    static List<Object> rsplit(String s, String sep, long maxSplit) {
        if (maxSplit < 0) {
            return split(s, sep, -1);
        }
        List<Object> parts = new ArrayList<>();
        if (sep == null) {
            int i = s.length();
            while (true) {
                while (i > 0 && isSpace(s.charAt(i - 1))) {
                    i--;
                }
                if (i == 0) {
                    break;
                }
                if (parts.size() == maxSplit) {
                    parts.add(s.substring(0, i));
                    break;
                }
                int end = i;
                while (i > 0 && !isSpace(s.charAt(i - 1))) {
                    i--;
                }
                parts.add(s.substring(i, end));
            }
        } else {
            if (sep.isEmpty()) {
                throw JinjaException.runtime("ValueError", "empty separator");
            }
            int end = s.length();
            while (parts.size() < maxSplit) {
                int at = s.lastIndexOf(sep, end - sep.length());
                if (at < 0) {
                    break;
                }
                parts.add(s.substring(at + sep.length(), end));
                end = at;
            }
            parts.add(s.substring(0, end));
        }
        return reversed(parts);
    }

    private static List<Object> reversed(List<Object> parts) {
        List<Object> out = new ArrayList<>(parts.size());
        for (int i = parts.size() - 1; i >= 0; i--) {
            out.add(parts.get(i));
        }
        return out;
    }

    /** Python's {@code str.splitlines(keepends=False)}. */
    static List<Object> splitlines(String s, boolean keepEnds) {
        List<Object> lines = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (isLineBreak(c)) {
                int end = i;
                i += c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1;
                lines.add(s.substring(start, keepEnds ? i : end));
                start = i;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            lines.add(s.substring(start));
        }
        return lines;
    }

    // --- case ---

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    /** Python's {@code str.title()}: a cased character after an uncased one starts a word. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            String one = new String(Character.toChars(cp));
            if (previousCased) {
                out.append(lower(one));
            } else {
                out.append(titleCase(cp));
            }
            previousCased = isCased(cp);
        }
        return out.toString();
    }

    private static String titleCase(int cp) {
        int title = Character.toTitleCase(cp);
        if (title != cp || !Character.isLowerCase(cp)) {
            return new String(Character.toChars(title));
        }
        return upper(new String(Character.toChars(cp))); // full mappings such as ß -> SS have no title case
    }

    /** Python's {@code str.capitalize()}: the first character in title case, the rest lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return titleCase(first) + lower(s.substring(Character.charCount(first)));
    }

    static String swapcase(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            String one = new String(Character.toChars(cp));
            out.append(Character.isUpperCase(cp) ? lower(one) : Character.isLowerCase(cp) ? upper(one) : one);
        });
        return out.toString();
    }

    static boolean isLower(String s) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isLowerCase(cp);
        }
        return cased;
    }

    static boolean isUpper(String s) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (Character.isLowerCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isUpperCase(cp);
        }
        return cased;
    }

    // --- padding ---

    /** Python's {@code str.center(width, fill)}. */
    static String center(String s, long width, String fill) {
        long len = length(s);
        if (width <= len) {
            return s;
        }
        long margin = width - len;
        long left = margin / 2 + (margin & width & 1);
        return fill.repeat((int) left) + s + fill.repeat((int) (margin - left));
    }

    static String ljust(String s, long width, String fill) {
        long len = length(s);
        return width <= len ? s : s + fill.repeat((int) (width - len));
    }

    static String rjust(String s, long width, String fill) {
        long len = length(s);
        return width <= len ? s : fill.repeat((int) (width - len)) + s;
    }

    static String zfill(String s, long width) {
        long len = length(s);
        if (width <= len) {
            return s;
        }
        String zeros = "0".repeat((int) (width - len));
        if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
            return s.charAt(0) + zeros + s.substring(1);
        }
        return zeros + s;
    }

    // --- searching and replacing ---

    /** Python's {@code str.replace(old, new, count=-1)}, an empty {@code old} included. */
    static String replace(String s, String old, String replacement, long count) {
        if (count < 0 && !old.isEmpty()) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        if (old.isEmpty()) {
            long done = 0;
            int i = 0;
            while (true) {
                if (count < 0 || done < count) {
                    out.append(replacement);
                    done++;
                }
                if (i >= s.length()) {
                    break;
                }
                int cp = s.codePointAt(i);
                out.appendCodePoint(cp);
                i += Character.charCount(cp);
            }
            return out.toString();
        }
        int from = 0;
        int at;
        for (long done = 0; done < count && (at = s.indexOf(old, from)) >= 0; done++) {
            out.append(s, from, at).append(replacement);
            from = at + old.length();
        }
        return out.append(s.substring(from)).toString();
    }

    /** Python's {@code str.find}: a code point index, or -1. */
    static long find(String s, String sub, boolean last) {
        int at = last ? s.lastIndexOf(sub) : s.indexOf(sub);
        return at < 0 ? -1 : s.codePointCount(0, at);
    }

    static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return length(s) + 1;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    // --- indexing ---

    /** {@code s[index]}, or null when out of range. */
    static String charAt(String s, long index) {
        int[] cps = codePoints(s);
        long i = index < 0 ? index + cps.length : index;
        if (i < 0 || i >= cps.length) {
            return null;
        }
        return new String(Character.toChars(cps[(int) i]));
    }

    /** {@code s[start:stop:step]} with Python's slice rules (each bound may be null). */
    static String slice(String s, Long start, Long stop, Long step) {
        int[] cps = codePoints(s);
        StringBuilder out = new StringBuilder();
        for (int i : Slices.indices(cps.length, start, stop, step)) {
            out.appendCodePoint(cps[i]);
        }
        return out.toString();
    }

    /** jinja2's {@code title} filter: upper-cases the first letter of words split on {@code [-\s({\[<]+}. */
    static String jinjaTitle(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            int start = i;
            boolean separator = isTitleSeparator(s.charAt(i));
            while (i < s.length() && isTitleSeparator(s.charAt(i)) == separator) {
                i++;
            }
            String item = s.substring(start, i);
            if (separator) {
                out.append(item);
            } else {
                int first = item.codePointAt(0);
                out.append(upper(new String(Character.toChars(first)))).append(lower(item.substring(Character.charCount(first))));
            }
        }
        return out.toString();
    }

    private static boolean isTitleSeparator(char c) {
        return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || isSpace(c);
    }
}
