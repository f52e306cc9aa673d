package io.batchllm.engine.chat.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/**
 * Python's string formatting: {@code "%s" % x} (and the {@code format} filter) and
 * {@code str.format}. The conversions templates use are supported ({@code %s %r %d %i %f %e %x
 * %X %o %c %%} with flags, width and precision; {@code {}}, {@code {0}}, {@code {name}} fields with
 * {@code !r}/{@code !s} and fill/align/sign/width/precision specs); anything else fails with a
 * message saying so rather than printing something different from Python.
 */
final class PyFormat {
    private PyFormat() {
    }

    // --- printf style ---

    static String percent(String format, Object args, Budget budget) {
        List<Object> positional = args instanceof PyTuple t ? t.items() : List.of(args);
        Map<?, ?> mapping = args instanceof Map<?, ?> m ? m : null;
        StringBuilder out = new StringBuilder();
        int next = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i++);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i >= format.length()) {
                throw valueError("incomplete format");
            }
            Object value = null;
            if (format.charAt(i) == '(') {
                int close = format.indexOf(')', i);
                if (close < 0 || mapping == null) {
                    throw JinjaException.typeError("format requires a mapping");
                }
                Object v = DictKeys.lookup(mapping, format.substring(i + 1, close));
                if (v == null) {
                    throw JinjaException.runtime("KeyError", PyRepr.repr(format.substring(i + 1, close)));
                }
                value = v;
                i = close + 1;
            }
            int specStart = i;
            while (i < format.length() && "-+ #0".indexOf(format.charAt(i)) >= 0) {
                i++;
            }
            String flags = format.substring(specStart, i);
            int width = readNumber(format, i);
            i = skipDigits(format, i);
            int precision = -1;
            if (i < format.length() && format.charAt(i) == '.') {
                i++;
                precision = Math.max(0, readNumber(format, i));
                i = skipDigits(format, i);
            }
            if (i >= format.length()) {
                throw valueError("incomplete format");
            }
            char conversion = format.charAt(i++);
            if (conversion == '%') {
                out.append('%');
                continue;
            }
            if (value == null) {
                if (next >= positional.size()) {
                    throw JinjaException.typeError("not enough arguments for format string");
                }
                value = positional.get(next++);
            }
            String text = convert(conversion, value, flags, precision);
            out.append(pad(text, width, flags.contains("-") ? '<' : '>', flags.contains("0")
                    && "diouxXeEf".indexOf(conversion) >= 0 ? '0' : ' '));
            budget.chars(out.length());
        }
        if (mapping == null && next < positional.size()) {
            throw JinjaException.typeError("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static int readNumber(String s, int i) {
        int end = skipDigits(s, i);
        return end == i ? -1 : Integer.parseInt(s.substring(i, Math.min(end, i + 6)));
    }

    private static int skipDigits(String s, int i) {
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String convert(char conversion, Object value, String flags, int precision) {
        return switch (conversion) {
            case 's' -> precision(PyRepr.str(value), precision);
            case 'r', 'a' -> precision(PyRepr.repr(value), precision);
            case 'd', 'i', 'u' -> sign(integer(value, conversion).toString(), flags);
            case 'x' -> sign(integer(value, conversion).toString(16), flags);
            case 'X' -> sign(integer(value, conversion).toString(16).toUpperCase(), flags);
            case 'o' -> sign(integer(value, conversion).toString(8), flags);
            case 'f', 'F' -> sign(fixed(real(value, conversion), precision < 0 ? 6 : precision), flags);
            case 'e', 'E' -> {
                String e = scientific(real(value, conversion), precision < 0 ? 6 : precision);
                yield sign(conversion == 'E' ? e.toUpperCase() : e, flags);
            }
            case 'c' -> {
                if (Py.isInt(value)) {
                    yield new String(Character.toChars((int) Py.toLong(value, "%c")));
                }
                if (Py.isString(value) && PyStrings.length(Py.text(value)) == 1) {
                    yield Py.text(value);
                }
                throw JinjaException.typeError("%c requires int or char");
            }
            default -> throw valueError("unsupported format character '" + conversion + "'");
        };
    }

    private static String precision(String s, int precision) {
        return precision < 0 || precision >= s.length() ? s : s.substring(0, precision);
    }

    private static String sign(String number, String flags) {
        if (number.startsWith("-")) {
            return number;
        }
        return flags.contains("+") ? "+" + number : flags.contains(" ") ? " " + number : number;
    }

    private static BigInteger integer(Object value, char conversion) {
        if (Py.isInt(value)) {
            return Py.bigInt(value);
        }
        if (value instanceof Double d && (conversion == 'd' || conversion == 'i' || conversion == 'u')) {
            if (d.isNaN() || d.isInfinite()) {
                throw valueError("cannot convert float " + PyRepr.floatRepr(d) + " to integer");
            }
            return new BigDecimal(d).toBigInteger();
        }
        throw JinjaException.typeError("%" + conversion + " format: " + (conversion == 'd' || conversion == 'i'
                || conversion == 'u' ? "a real number" : "an integer") + " is required, not " + Py.typeName(value));
    }

    private static double real(Object value, char conversion) {
        if (Py.isNumber(value)) {
            return Py.toDouble(value);
        }
        throw JinjaException.typeError("must be real number, not " + Py.typeName(value));
    }

    /** C's {@code %.Nf}: the exact binary value rounded half-even at N digits. */
    static String fixed(double d, int precision) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return PyRepr.floatRepr(d);
        }
        String s = new BigDecimal(d).setScale(precision, RoundingMode.HALF_EVEN).toPlainString();
        return d < 0 || 1 / d < 0 ? (s.startsWith("-") ? s : "-" + s) : s;
    }

    private static String scientific(double d, int precision) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return PyRepr.floatRepr(d);
        }
        if (d == 0) {
            return (1 / d < 0 ? "-" : "") + "0" + (precision > 0 ? "." + "0".repeat(precision) : "") + "e+00";
        }
        BigDecimal exact = new BigDecimal(d).abs();
        int exponent = exact.precision() - exact.scale() - 1;
        BigDecimal mantissa = exact.movePointLeft(exponent).setScale(precision, RoundingMode.HALF_EVEN);
        if (mantissa.compareTo(BigDecimal.TEN) >= 0) {
            exponent++;
            mantissa = exact.movePointLeft(exponent).setScale(precision, RoundingMode.HALF_EVEN);
        }
        return (d < 0 ? "-" : "") + mantissa.toPlainString() + "e" + (exponent < 0 ? "-" : "+")
                + String.format("%02d", Math.abs(exponent));
    }

    private static String pad(String s, int width, char align, char fill) {
        long len = PyStrings.length(s);
        if (width <= len) {
            return s;
        }
        String padding = String.valueOf(fill).repeat((int) (width - len));
        if (align == '<') {
            return s + padding;
        }
        if (fill == '0' && !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+' || s.charAt(0) == ' ')) {
            return s.charAt(0) + padding + s.substring(1);
        }
        return padding + s;
    }

    // --- str.format ---

    static String format(Renderer renderer, String format, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i);
            if (c == '{' || c == '}') {
                if (i + 1 < format.length() && format.charAt(i + 1) == c) {
                    out.append(c);
                    i += 2;
                    continue;
                }
                if (c == '}') {
                    throw valueError("Single '}' encountered in format string");
                }
                int close = format.indexOf('}', i);
                if (close < 0) {
                    throw valueError("Single '{' encountered in format string");
                }
                String field = format.substring(i + 1, close);
                String spec = "";
                char conversion = 0;
                int colon = field.indexOf(':');
                if (colon >= 0) {
                    spec = field.substring(colon + 1);
                    field = field.substring(0, colon);
                }
                int bang = field.indexOf('!');
                if (bang >= 0) {
                    conversion = bang + 1 < field.length() ? field.charAt(bang + 1) : 0;
                    field = field.substring(0, bang);
                }
                Object value;
                if (field.isEmpty()) {
                    value = positional(args, auto++);
                } else if (Character.isDigit(field.charAt(0))) {
                    value = positional(args, Integer.parseInt(field.replaceAll("\\D.*", "")));
                    value = accessors(renderer, value, field.replaceFirst("^\\d+", ""));
                } else {
                    String name = field.split("[.\\[]", 2)[0];
                    if (!kwargs.containsKey(name)) {
                        throw JinjaException.runtime("KeyError", PyRepr.repr(name));
                    }
                    value = accessors(renderer, kwargs.get(name), field.substring(name.length()));
                }
                String text = switch (conversion) {
                    case 0 -> null;
                    case 'r', 'a' -> PyRepr.repr(value);
                    case 's' -> PyRepr.str(value);
                    default -> throw valueError("Unknown conversion specifier " + conversion);
                };
                out.append(text != null ? formatSpec(text, spec) : formatValue(value, spec));
                renderer.budget().chars(out.length());
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static Object positional(List<Object> args, int index) {
        if (index >= args.size()) {
            throw JinjaException.runtime("IndexError", "Replacement index " + index + " out of range for positional"
                    + " args tuple");
        }
        return args.get(index);
    }

    /** {@code .attr} and {@code [key]} after a field name, through the sandbox. */
    private static Object accessors(Renderer renderer, Object value, String rest) {
        int i = 0;
        while (i < rest.length()) {
            if (rest.charAt(i) == '.') {
                int end = i + 1;
                while (end < rest.length() && rest.charAt(end) != '.' && rest.charAt(end) != '[') {
                    end++;
                }
                value = Methods.getattr(value, rest.substring(i + 1, end));
                i = end;
            } else if (rest.charAt(i) == '[') {
                int end = rest.indexOf(']', i);
                String key = rest.substring(i + 1, end);
                value = Methods.getitem(value, key.chars().allMatch(Character::isDigit) && !key.isEmpty()
                        ? (Object) Long.parseLong(key) : key);
                i = end + 1;
            } else {
                throw valueError("Only '.' or '[' may follow ']' in format field specifier");
            }
            if (value instanceof Undefined u) {
                throw u.error();
            }
        }
        return value;
    }

    private static String formatValue(Object value, String spec) {
        if (spec.isEmpty()) {
            return PyRepr.str(value);
        }
        Spec s = Spec.parse(spec);
        if (Py.isNumber(value) && !(value instanceof Boolean && s.type == 0)) {
            String body;
            switch (s.type) {
                case 'd', 0 -> {
                    if (value instanceof Double && s.type == 0) {
                        body = s.precision >= 0 ? fixed(Py.toDouble(value), s.precision) : PyRepr.floatRepr(Py.toDouble(value));
                    } else if (value instanceof Double) {
                        throw valueError("Unknown format code 'd' for object of type 'float'");
                    } else {
                        body = Py.bigInt(value).toString();
                    }
                }
                case 'f', 'F' -> body = fixed(Py.toDouble(value), s.precision < 0 ? 6 : s.precision);
                case 'e', 'E' -> body = scientific(Py.toDouble(value), s.precision < 0 ? 6 : s.precision);
                case 'x' -> body = Py.bigInt(value).toString(16);
                case 'X' -> body = Py.bigInt(value).toString(16).toUpperCase();
                case '%' -> body = fixed(Py.toDouble(value) * 100, s.precision < 0 ? 6 : s.precision) + "%";
                default -> throw valueError("format spec not supported by this engine: '" + spec + "'");
            }
            body = sign(body, s.sign == '+' ? "+" : s.sign == ' ' ? " " : "");
            return s.align(body, '>');
        }
        if (s.type != 0 && s.type != 's') {
            throw valueError("Unknown format code '" + s.type + "' for object of type '" + Py.typeName(value) + "'");
        }
        return formatSpec(PyRepr.str(value), spec);
    }

    private static String formatSpec(String text, String spec) {
        if (spec.isEmpty()) {
            return text;
        }
        Spec s = Spec.parse(spec);
        return s.align(precision(text, s.precision), '<');
    }

    private static JinjaException valueError(String message) {
        return JinjaException.runtime("ValueError", message);
    }

    /** A format spec {@code [[fill]align][sign][0][width][.precision][type]}. */
    private record Spec(char fill, char align, char sign, int width, int precision, char type) {

        static Spec parse(String spec) {
            int i = 0;
            char fill = ' ';
            char align = 0;
            if (spec.length() >= 2 && "<>^=".indexOf(spec.charAt(1)) >= 0) {
                fill = spec.charAt(0);
                align = spec.charAt(1);
                i = 2;
            } else if (!spec.isEmpty() && "<>^=".indexOf(spec.charAt(0)) >= 0) {
                align = spec.charAt(0);
                i = 1;
            }
            char sign = 0;
            if (i < spec.length() && "+- ".indexOf(spec.charAt(i)) >= 0) {
                sign = spec.charAt(i++);
            }
            if (i < spec.length() && spec.charAt(i) == '0') {
                fill = '0';
                align = align == 0 ? '=' : align;
                i++;
            }
            int width = readNumber(spec, i);
            i = skipDigits(spec, i);
            int precision = -1;
            if (i < spec.length() && spec.charAt(i) == '.') {
                precision = Math.max(0, readNumber(spec, i + 1));
                i = skipDigits(spec, i + 1);
            }
            char type = i < spec.length() ? spec.charAt(i++) : 0;
            if (i != spec.length()) {
                throw valueError("format spec not supported by this engine: '" + spec + "'");
            }
            return new Spec(fill, align, sign, width, precision, type);
        }

        String align(String body, char defaultAlign) {
            long len = PyStrings.length(body);
            if (width <= len) {
                return body;
            }
            int padding = (int) (width - len);
            String f = String.valueOf(fill);
            return switch (align == 0 ? defaultAlign : align) {
                case '<' -> body + f.repeat(padding);
                case '^' -> f.repeat(padding / 2) + body + f.repeat(padding - padding / 2);
                case '=' -> !body.isEmpty() && "+- ".indexOf(body.charAt(0)) >= 0
                        ? body.charAt(0) + f.repeat(padding) + body.substring(1) : f.repeat(padding) + body;
                default -> f.repeat(padding) + body;
            };
        }
    }
}
