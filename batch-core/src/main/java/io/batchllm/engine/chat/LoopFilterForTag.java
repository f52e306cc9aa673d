package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.io.Serial;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinjava's {@code for} tag plus Jinja2's loop filter, {@code {% for x in xs if cond %}}.
 *
 * <p>Jinjava has no loop filter: it reads {@code xs if cond} as a conditional expression and
 * evaluates {@code cond} once, before the loop, with the loop variable undefined. The loop then runs
 * over everything or over nothing, silently (Mistral's {@code for key, val in tool.items() if key
 * != "return"} kept "return"). Here the items are filtered first, with the loop variables bound to
 * each item, and the loop runs over the kept items, so {@code loop.index} and {@code loop.last}
 * count only those, as in Jinja2. Loops without a filter go to Jinjava unchanged.
 */
final class LoopFilterForTag extends ForTag {
    @Serial
    private static final long serialVersionUID = 1L;

    private static final Pattern IN = Pattern.compile("\\sin\\s");

    @Override
    public String interpretUnchecked(TagNode tagNode, JinjavaInterpreter interpreter) {
        String helpers = tagNode.getHelpers();
        Matcher in = IN.matcher(helpers);
        int filterAt = in.find() ? topLevelIf(helpers, in.end()) : -1;
        if (filterAt < 0) {
            return super.interpretUnchecked(tagNode, interpreter);
        }
        List<String> loopVars = Arrays.stream(helpers.substring(0, in.start()).split(","))
                .map(String::trim)
                .toList();
        String iterable = helpers.substring(in.end(), filterAt);
        String condition = helpers.substring(filterAt + "if".length());
        Object collection = interpreter.resolveELExpression(iterable, tagNode.getLineNumber());
        return renderForCollection(tagNode, interpreter, loopVars,
                kept(collection, loopVars, condition, tagNode.getLineNumber(), interpreter));
    }

    private static List<Object> kept(Object collection, List<String> loopVars, String condition, int line,
            JinjavaInterpreter interpreter) {
        List<Object> kept = new ArrayList<>();
        ForLoop items = ObjectIterator.getLoop(collection);
        // A scope of its own, so the loop variables bound for the filter do not leak out of the loop.
        try (InterpreterScopeClosable _ = interpreter.enterScope()) {
            while (items.hasNext()) {
                Object item = items.next();
                bind(loopVars, interpreter.wrap(item), interpreter);
                if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(condition, line))) {
                    kept.add(item);
                }
            }
        }
        return kept;
    }

    /** Binds one item to the loop variables as Jinjava's for does: a value, a map entry, or a list. */
    private static void bind(List<String> loopVars, Object item, JinjavaInterpreter interpreter) {
        if (loopVars.size() == 1) {
            interpreter.getContext().put(loopVars.get(0), item);
            return;
        }
        for (int i = 0; i < loopVars.size(); i++) {
            Object value = null;
            if (item instanceof Map.Entry<?, ?> entry && i < 2) {
                value = i == 0 ? entry.getKey() : entry.getValue();
            } else if (item instanceof List<?> list && i < list.size()) {
                value = list.get(i);
            }
            interpreter.getContext().put(loopVars.get(i), value);
        }
    }

    /**
     * The position of the first {@code if} keyword outside strings and brackets, or -1. Jinja2
     * parses a loop's iterable without conditional expressions, so that {@code if} always starts
     * the filter.
     */
    static int topLevelIf(String code, int from) {
        int depth = 0;
        char quote = 0;
        for (int i = from; i < code.length(); i++) {
            char c = code.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (depth == 0 && code.startsWith("if", i) && isWordBoundary(code, i - 1)
                    && isWordBoundary(code, i + 2)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isWordBoundary(String code, int at) {
        return at < 0 || at >= code.length() || !(Character.isLetterOrDigit(code.charAt(at)) || code.charAt(at) == '_');
    }
}
