package io.batchllm.engine.chat;

/**
 * Jinja2's whitespace rules that Jinjava gets wrong, applied to the template source before Jinjava
 * parses it.
 *
 * <ul>
 *   <li>{@code lstrip_blocks}: Jinja2 removes the spaces and tabs before a <code>&#123;%</code> or
 *       <code>&#123;#</code> tag only when nothing else precedes the tag on its line. Jinjava's option strips
 *       them wherever the tag is, so {@code a, {% if x %}b} renders as {@code a,b} instead of
 *       {@code a, b}. This class strips exactly where Jinja2's lexer does (its
 *       {@code line_starting} rule included), and Jinjava's own option stays off. A {@code +}
 *       after the tag's opening (<code>&#123;%+</code>) keeps the whitespace, as in Jinja2, and is removed
 *       because Jinjava does not know it.</li>
 *   <li>{@code keep_trailing_newline=False}: Jinja2 drops one newline at the very end of the
 *       template; Jinjava keeps it.</li>
 * </ul>
 *
 * <p>{@code trim_blocks} and the {@code -} markers are left to Jinjava, which handles them as
 * Jinja2 does. Line numbers are unchanged (only spaces and tabs are removed). Tags inside
 * {@code {% raw %}} blocks are not special-cased.
 */
final class Jinja2Whitespace {

    private Jinja2Whitespace() {
    }

    /** @return the source with Jinja2's {@code lstrip_blocks} and trailing-newline rules applied */
    static String apply(String source) {
        return lstripBlocks(withoutTrailingNewline(source));
    }

    static String withoutTrailingNewline(String source) {
        if (source.endsWith("\r\n")) {
            return source.substring(0, source.length() - 2);
        }
        return source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
    }

    static String lstripBlocks(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int textStart = 0;
        int i = 0;
        while (i < source.length() - 1) {
            char kind = source.charAt(i + 1);
            if (source.charAt(i) != '{' || (kind != '{' && kind != '%' && kind != '#')) {
                i++;
                continue;
            }
            String text = source.substring(textStart, i);
            boolean keep = i + 2 < source.length() && source.charAt(i + 2) == '+';
            // Jinja2 strips when the tag starts a line: the text before it has a newline, or the
            // tag is the template's first token. (Jinja2 also tracks tags whose match swallowed
            // the newline; keeping that newline in the text here gives the same result.)
            if (kind != '{' && !keep && (textStart == 0 || text.indexOf('\n') >= 0)) {
                text = stripLastLineIfBlank(text);
            }
            out.append(text);
            int end = tagEnd(source, i + 2, kind == '{' ? '}' : kind);
            out.append(source, i, i + 2).append(source, keep ? i + 3 : i + 2, end);
            i = end;
            textStart = end;
        }
        return out.append(source, textStart, source.length()).toString();
    }

    /** Removes the whitespace after the last newline when nothing else follows it. */
    private static String stripLastLineIfBlank(String text) {
        int lineStart = text.lastIndexOf('\n') + 1;
        for (int j = lineStart; j < text.length(); j++) {
            if (!Character.isWhitespace(text.charAt(j))) {
                return text;
            }
        }
        return text.substring(0, lineStart);
    }

    /** @return the index just after the tag's closing delimiter, skipping string literals */
    private static int tagEnd(String source, int from, char close) {
        if (close == '#') {
            // Comments hold prose, where an apostrophe opens no string.
            int end = source.indexOf("#}", from);
            return end < 0 ? source.length() : end + 2;
        }
        char quote = 0;
        for (int j = from; j < source.length() - 1; j++) {
            char c = source.charAt(j);
            if (quote != 0) {
                if (c == '\\') {
                    j++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == close && source.charAt(j + 1) == '}') {
                return j + 2;
            }
        }
        // Unclosed tag: leave the rest as it is; Jinjava reports the syntax error.
        return source.length();
    }
}
