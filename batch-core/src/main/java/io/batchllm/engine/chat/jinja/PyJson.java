package io.batchllm.engine.chat.jinja;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii, indent, separators, sort_keys)}, which is Hugging
 * Face's {@code tojson} filter: {@code ", "} and {@code ": "} between items (only {@code ","} before
 * a newline when indented), floats as Python's repr, non-ASCII kept unless {@code ensure_ascii},
 * no HTML escaping (jinja2's own {@code tojson} would escape {@code <>&'}).
 */
final class PyJson {
    private final StringBuilder out;
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final Budget budget;

    private PyJson(StringBuilder out, boolean ensureAscii, String indent, String itemSeparator, String keySeparator,
            boolean sortKeys, Budget budget) {
        this.out = out;
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
        this.budget = budget;
    }

    /**
     * @param indent null, an int (spaces) or a string (used as the indent itself)
     * @param separators null or an (item, key) pair
     */
    static String dumps(Object value, boolean ensureAscii, Object indent, Object separators, boolean sortKeys,
            Budget budget) {
        String indentText = switch (indent) {
            case PyNone n -> null;
            case String s -> s;
            default -> {
                if (!Py.isInt(indent)) {
                    throw JinjaException.typeError("indent must be None, an int or a str, not '"
                            + Py.typeName(indent) + "'");
                }
                long spaces = Math.max(0, Py.toLong(indent, "indent"));
                budget.chars(spaces);
                yield " ".repeat((int) spaces);
            }
        };
        String item = indentText == null ? ", " : ",";
        String key = ": ";
        if (!(separators instanceof PyNone)) {
            List<Object> pair = Py.toList(separators);
            if (pair.size() != 2 || !Py.isString(pair.get(0)) || !Py.isString(pair.get(1))) {
                throw JinjaException.runtime("ValueError", "separators must be a (item_separator, key_separator) pair");
            }
            item = Py.text(pair.get(0));
            key = Py.text(pair.get(1));
        }
        StringBuilder out = new StringBuilder();
        new PyJson(out, ensureAscii, indentText, item, key, sortKeys, budget).value(value, 0);
        return out.toString();
    }

    private void value(Object v, int level) {
        budget.step();
        switch (v) {
            case PyNone n -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d -> out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d)
                    ? (d > 0 ? "Infinity" : "-Infinity") : PyRepr.floatDigits(d));
            case Long l -> out.append(l);
            case BigInteger b -> out.append(b);
            case String s -> string(s);
            case Markup m -> string(m.text());
            case Map<?, ?> m -> object(m, level);
            case List<?> l -> array(l, level);
            case PyTuple t -> array(t.items(), level);
            default -> throw JinjaException.typeError("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
        if (out.length() > budget.maxOutputChars()) {
            budget.chars(out.length());
        }
    }

    private void object(Map<?, ?> map, int level) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>();
        List<Object> rawKeys = new ArrayList<>();
        map.forEach((k, v) -> {
            rawKeys.add(k);
            entries.add(Map.entry(key(k), v));
        });
        if (sortKeys) {
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                order.add(i);
            }
            // Python sorts the original keys, so mixed key types fail as they do there.
            order.sort((a, b) -> Py.order("lt", rawKeys.get(a), rawKeys.get(b)));
            List<Map.Entry<String, Object>> sorted = new ArrayList<>();
            order.forEach(i -> sorted.add(entries.get(i)));
            entries.clear();
            entries.addAll(sorted);
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : entries) {
            separator(first, level + 1);
            first = false;
            string(e.getKey());
            out.append(keySeparator);
            value(e.getValue(), level + 1);
        }
        newline(level);
        out.append('}');
    }

    /** Python converts int, float, bool and None keys to strings and refuses the rest. */
    private static String key(Object k) {
        return switch (k) {
            case String s -> s;
            case Markup m -> m.text();
            case Boolean b -> b ? "true" : "false";
            case PyNone n -> "null";
            case Double d -> PyRepr.floatRepr(d).replace("nan", "NaN").replace("inf", "Infinity");
            case Long l -> l.toString();
            case BigInteger b -> b.toString();
            default -> throw JinjaException.typeError("keys must be str, int, float, bool or None, not "
                    + Py.typeName(k));
        };
    }

    private void array(List<?> items, int level) {
        if (items.isEmpty()) {
            out.append("[]");
            return;
        }
        out.append('[');
        for (int i = 0; i < items.size(); i++) {
            separator(i == 0, level + 1);
            value(items.get(i), level + 1);
        }
        newline(level);
        out.append(']');
    }

    private void separator(boolean first, int level) {
        if (!first) {
            out.append(itemSeparator);
        }
        newline(level);
    }

    private void newline(int level) {
        if (indent != null) {
            out.append('\n');
            for (int i = 0; i < level; i++) {
                out.append(indent);
            }
        }
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || ensureAscii && c > 0x7E) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
