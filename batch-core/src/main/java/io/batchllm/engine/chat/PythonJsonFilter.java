package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code tojson} filter as HF transformers defines it: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}.
 *
 * <p>Replaces Jinjava's own {@code tojson}, which writes compact Jackson JSON
 * ({@code {"a":1}}); Python separates with {@code ", "} and {@code ": "} ({@code {"a": 1}}), and
 * with {@code indent} uses {@code ","} plus a newline. Tool schemas printed by templates must match
 * byte for byte what the model was trained on. Strings keep non-ASCII characters as they are
 * ({@code ensure_ascii=False}, as HF renders); floats are written as Python's {@code repr}.
 */
final class PythonJsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return filter(var, interpreter, (Object[]) args, Map.of());
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indentArg = kwargs.containsKey("indent") ? kwargs.get("indent") : (args.length > 0 ? args[0] : null);
        int indent = indentArg == null ? -1 : Integer.parseInt(indentArg.toString());
        boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
        StringBuilder out = new StringBuilder();
        new Writer(out, indent, sortKeys).value(var, 0);
        return out.toString();
    }

    private record Writer(StringBuilder out, int indent, boolean sortKeys) {

        void value(Object v, int level) {
            switch (v) {
                case null -> out.append("null");
                case Boolean b -> out.append(b ? "true" : "false");
                case Double d -> out.append(pythonFloat(d));
                case Float f -> out.append(pythonFloat(f.doubleValue()));
                case BigDecimal d -> out.append(pythonFloat(d.doubleValue()));
                case Number n -> out.append(n);
                case CharSequence s -> string(s.toString());
                case Map<?, ?> m -> object(m, level);
                case Iterable<?> it -> {
                    List<Object> items = new ArrayList<>();
                    it.forEach(items::add);
                    array(items, level);
                }
                default -> {
                    if (v.getClass().isArray()) {
                        List<Object> items = new ArrayList<>();
                        for (int i = 0; i < Array.getLength(v); i++) {
                            items.add(Array.get(v, i));
                        }
                        array(items, level);
                    } else {
                        string(v.toString());
                    }
                }
            }
        }

        private void object(Map<?, ?> map, int level) {
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            Map<String, Object> entries = sortKeys ? new TreeMap<>() : new LinkedHashMap<>();
            map.forEach((k, v) -> entries.put(String.valueOf(k), v));
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : entries.entrySet()) {
                separator(first, level + 1);
                first = false;
                string(e.getKey());
                out.append(": ");
                value(e.getValue(), level + 1);
            }
            newline(level);
            out.append('}');
        }

        private void array(List<Object> items, int level) {
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

        /** Python's item separator: ", " compact, "," plus newline and indentation with indent. */
        private void separator(boolean first, int level) {
            if (!first) {
                out.append(indent >= 0 ? "," : ", ");
            }
            newline(level);
        }

        private void newline(int level) {
            if (indent >= 0) {
                out.append('\n').append(" ".repeat(indent * level));
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
                        if (c < 0x20) {
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

    /**
     * Python's float repr: the shortest digits that round-trip (Java's Double.toString gives those
     * since JDK 19), written plainly for exponents -4..15 and as {@code 1e+16} / {@code 1.5e-05}
     * otherwise, where Java would write {@code 1.0E16} / {@code 1.5E-5}.
     */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = exact.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
