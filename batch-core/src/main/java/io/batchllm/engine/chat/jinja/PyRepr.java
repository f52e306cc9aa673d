package io.batchllm.engine.chat.jinja;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Python's {@code str()} and {@code repr()} of template values, which is what a template prints:
 * <code>&#123;&#123; 1e16 &#125;&#125;</code> is {@code 1e+16}, {@code true} is {@code True}, a list is
 * {@code ['a', None]}, a missing value is nothing.
 */
final class PyRepr {
    private PyRepr() {
    }

    /** Python's {@code str(v)}. */
    static String str(Object v) {
        return switch (v) {
            case String s -> s;
            case Markup m -> m.text();
            case Undefined u -> "";
            default -> repr(v);
        };
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        return switch (v) {
            case String s -> string(s);
            case Markup m -> "Markup(" + string(m.text()) + ")";
            case PyNone n -> "None";
            case Boolean b -> b ? "True" : "False";
            case Double d -> floatRepr(d);
            case Number n -> n.toString();
            case List<?> l -> sequence("[", l, "]");
            case PyTuple t -> t.items().size() == 1 ? "(" + repr(t.items().getFirst()) + ",)"
                    : sequence("(", t.items(), ")");
            case Map<?, ?> m -> dict(m);
            case Undefined u -> "Undefined";
            case Namespace ns -> "<Namespace " + dict(ns.attributes) + ">";
            case Macro m -> "<Macro " + string(m.name()) + ">";
            case LoopContext loop -> "<LoopContext " + loop.index() + "/" + loop.length() + ">";
            case PyRange r -> "range(" + r.start() + ", " + r.stop() + (r.step() == 1 ? "" : ", " + r.step()) + ")";
            case DictView view -> view.kind().pythonName + "(" + repr(Py.toList(view)) + ")";
            case PyIterator it -> "<" + it.typeName + " object>";
            case BoundMethod m -> "<built-in method " + m.name() + " of " + Py.typeName(m.self()) + " object>";
            default -> "<" + Py.typeName(v) + " object>";
        };
    }

    private static String sequence(String open, List<?> items, String close) {
        StringJoiner out = new StringJoiner(", ", open, close);
        for (Object item : items) {
            out.add(repr(item));
        }
        return out.toString();
    }

    private static String dict(Map<?, ?> map) {
        StringJoiner out = new StringJoiner(", ", "{", "}");
        map.forEach((k, v) -> out.add(repr(k) + ": " + repr(v)));
        return out.toString();
    }

    /**
     * Python's {@code repr} of a string: single quotes unless the text has a single quote and no
     * double quote; backslash escapes for quotes, backslashes, tab/newline/CR and non-printable
     * characters.
     */
    static String string(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder out = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') {
                out.append('\\').appendCodePoint(cp);
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\r') {
                out.append("\\r");
            } else if (cp < ' ' || cp == 0x7F) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp < 0x7F || isPrintable(cp)) {
                out.appendCodePoint(cp);
            } else {
                out.append(backslashEscape(cp));
            }
        }
        return out.append(quote).toString();
    }

    /** Python's {@code str.isprintable()} for one character. */
    static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    /** {@code \xNN}, a four- or an eight-digit escape, as Python's {@code backslashreplace} writes it. */
    static String backslashEscape(int cp) {
        if (cp <= 0xFF) {
            return String.format("\\x%02x", cp);
        }
        return cp <= 0xFFFF ? String.format("\\u%04x", cp) : String.format("\\U%08x", cp);
    }

    /** Python's float {@code repr}: {@code nan}, {@code inf}, and {@link #floatDigits} otherwise. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        return floatDigits(d);
    }

    /**
     * Python's float repr of a finite value: the shortest digits that round-trip (Java's
     * Double.toString gives those since JDK 19), written plainly for exponents -4..15 and as
     * {@code 1e+16} / {@code 1.5e-05} otherwise, where Java would write {@code 1.0E16} / {@code 1.5E-5}.
     */
    static String floatDigits(double d) {
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
