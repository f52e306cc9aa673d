package io.batchllm.engine.chat.jinja;

import java.util.List;
import java.util.Map;

/** Argument checks for Python's built-in methods ({@code str.strip}, {@code dict.get}, ...). */
final class Args {
    private final String name;
    private final List<Object> positional;
    private final Map<String, Object> keywords;

    Args(String name, List<Object> positional, Map<String, Object> keywords) {
        this.name = name;
        this.positional = positional;
        this.keywords = keywords;
    }

    void none() {
        noKeywords();
        if (!positional.isEmpty()) {
            throw JinjaException.typeError(name + "() takes no arguments (" + positional.size() + " given)");
        }
    }

    void noKeywords() {
        if (!keywords.isEmpty()) {
            throw JinjaException.typeError(name + "() takes no keyword arguments");
        }
    }

    void count(int min, int max) {
        int n = positional.size();
        if (n < min) {
            throw JinjaException.typeError(name + "() takes at least " + min + " argument" + (min == 1 ? "" : "s")
                    + " (" + n + " given)");
        }
        if (n > max) {
            throw JinjaException.typeError(name + "() takes at most " + max + " argument" + (max == 1 ? "" : "s")
                    + " (" + n + " given)");
        }
    }

    /** The argument at {@code index} (or named {@code keyword}), else {@code fallback}. */
    Object get(int index, String keyword, Object fallback) {
        if (index < positional.size()) {
            return positional.get(index);
        }
        return keyword != null && keywords.containsKey(keyword) ? keywords.get(keyword) : fallback;
    }

    /** A string argument, or null when it is None or not given. */
    String optionalString(int index, String keyword) {
        Object v = get(index, keyword, PyNone.NONE);
        if (v instanceof PyNone) {
            return null;
        }
        if (!Py.isString(v)) {
            throw JinjaException.typeError(name + "() argument must be str or None, not " + Py.typeName(v));
        }
        return Py.text(v);
    }

    String string(int index, String keyword) {
        Object v = get(index, keyword, null);
        if (v == null || !Py.isString(v)) {
            throw JinjaException.typeError(name + "() argument " + (index + 1) + " must be str, not "
                    + (v == null ? "nothing" : Py.typeName(v)));
        }
        return Py.text(v);
    }

    long integer(int index, String keyword, long fallback) {
        Object v = get(index, keyword, null);
        if (v == null) {
            return fallback;
        }
        if (!Py.isInt(v)) {
            throw JinjaException.typeError("'" + Py.typeName(v) + "' object cannot be interpreted as an integer");
        }
        return Py.toLong(v, name + "() argument");
    }
}
