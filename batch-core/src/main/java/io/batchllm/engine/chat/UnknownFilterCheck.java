package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.tree.ExpressionNode;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds filters a template uses that the engine does not have.
 *
 * <p>Jinjava renders an unknown filter as an empty value and reports nothing, where Jinja2 refuses
 * the template. A chat template silently losing part of its text would produce a wrong prompt with
 * no error, so {@link ChatTemplate#compile} refuses such templates up front. The check reads every
 * expression and tag argument of the parsed template, skips string literals, and looks up each
 * name that follows a {@code |}.
 */
final class UnknownFilterCheck {

    private UnknownFilterCheck() {
    }

    /** @return one line per unknown filter use, e.g. {@code unknown filter 'foo' (line 3)} */
    static List<String> unknownFilters(Node root, Context context) {
        List<String> problems = new ArrayList<>();
        visit(root, context, problems);
        return problems;
    }

    private static void visit(Node node, Context context, List<String> problems) {
        String code = switch (node) {
            case ExpressionNode e when e.getMaster() instanceof ExpressionToken t -> t.getExpr();
            case TagNode t -> t.getHelpers();
            default -> null;
        };
        if (code != null) {
            for (String filter : filterNames(code)) {
                if (context.getFilter(filter) == null) {
                    problems.add("unknown filter '" + filter + "' (line " + node.getLineNumber() + ")");
                }
            }
        }
        for (Node child : node.getChildren()) {
            visit(child, context, problems);
        }
    }

    /** The identifiers that follow a {@code |} outside string literals. */
    static List<String> filterNames(String code) {
        List<String> names = new ArrayList<>();
        char quote = 0;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '|') {
                int start = i + 1;
                while (start < code.length() && Character.isWhitespace(code.charAt(start))) {
                    start++;
                }
                int end = start;
                while (end < code.length() && (Character.isLetterOrDigit(code.charAt(end)) || code.charAt(end) == '_')) {
                    end++;
                }
                if (end > start) {
                    names.add(code.substring(start, end));
                }
                i = end - 1;
            }
        }
        return names;
    }
}
