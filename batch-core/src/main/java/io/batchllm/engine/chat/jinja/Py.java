package io.batchllm.engine.chat.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's semantics for the values templates compute with: truth, equality, ordering, arithmetic,
 * membership, iteration and length, with Python's error messages.
 *
 * <p>Values: {@link String}, {@link Markup}, {@link PyNone}, {@link Boolean}, {@link Long} or
 * {@link BigInteger} (int), {@link Double} (float), {@link List} (list), {@link PyTuple},
 * {@link Map} (dict), {@link Undefined}, and the template objects ({@link Namespace},
 * {@link Macro}, {@link LoopContext}, ...). Lists and dicts are never mutated: the sandbox jinja2
 * runs chat templates in is immutable.
 */
final class Py {
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    /** Integers beyond this many bits are refused, so that {@code 9 ** 9 ** 9} cannot exhaust memory. */
    static final int MAX_INT_BITS = 65_536;

    private Py() {
    }

    // --- types ---

    static Object normalize(BigInteger v) {
        if (v.bitLength() > MAX_INT_BITS) {
            throw JinjaException.limit("an integer in the template grew beyond " + MAX_INT_BITS + " bits");
        }
        return v.compareTo(LONG_MIN) >= 0 && v.compareTo(LONG_MAX) <= 0 ? (Object) v.longValue() : v;
    }

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof BigInteger || v instanceof Boolean;
    }

    static boolean isNumber(Object v) {
        return isInt(v) || v instanceof Double;
    }

    static boolean isString(Object v) {
        return v instanceof String || v instanceof Markup;
    }

    static BigInteger bigInt(Object v) {
        return switch (v) {
            case Long l -> BigInteger.valueOf(l);
            case BigInteger b -> b;
            case Boolean b -> b ? BigInteger.ONE : BigInteger.ZERO;
            default -> throw new IllegalArgumentException("not an int: " + v);
        };
    }

    static double toDouble(Object v) {
        return switch (v) {
            case Double d -> d;
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case BigInteger b -> {
                double d = b.doubleValue();
                if (Double.isInfinite(d)) {
                    throw JinjaException.runtime("OverflowError", "int too large to convert to float");
                }
                yield d;
            }
            default -> throw new IllegalArgumentException("not a number: " + v);
        };
    }

    /** An int argument (an index, a count) that must fit a long. */
    static long toLong(Object v, String what) {
        if (!isInt(v)) {
            throw JinjaException.typeError(what + " must be an integer, not '" + typeName(v) + "'");
        }
        BigInteger b = bigInt(v);
        if (b.bitLength() >= 63) {
            throw JinjaException.runtime("OverflowError", "Python int too large to convert to C ssize_t");
        }
        return b.longValue();
    }

    static String text(Object v) {
        return v instanceof Markup m ? m.text() : (String) v;
    }

    /** The Python class name, as error messages write it. */
    static String typeName(Object v) {
        return switch (v) {
            case String s -> "str";
            case Markup m -> "Markup";
            case PyNone n -> "NoneType";
            case Boolean b -> "bool";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Double d -> "float";
            case List<?> l -> "list";
            case PyTuple t -> "tuple";
            case Map<?, ?> m -> "dict";
            case Undefined u -> "Undefined";
            case Namespace n -> "Namespace";
            case Macro m -> "Macro";
            case LoopContext l -> "LoopContext";
            case PyIterator it -> it.typeName;
            case PyRange r -> "range";
            case DictView view -> view.kind().pythonName;
            case BoundMethod m -> "builtin_function_or_method";
            case Globals.Cycler c -> "Cycler";
            case Globals.Joiner j -> "Joiner";
            default -> "function";
        };
    }

    /** jinja2's {@code object_type_repr}: "dict object", "jinja2.utils.Namespace object", "None". */
    static String objectTypeRepr(Object v) {
        return switch (v) {
            case PyNone n -> "None";
            case Namespace n -> "jinja2.utils.Namespace object";
            case Undefined u -> "jinja2.runtime.Undefined object";
            case Macro m -> "jinja2.runtime.Macro object";
            case LoopContext l -> "jinja2.runtime.LoopContext object";
            case Markup m -> "markupsafe.Markup object";
            case Globals.Cycler c -> "jinja2.utils.Cycler object";
            case Globals.Joiner j -> "jinja2.utils.Joiner object";
            default -> typeName(v) + " object";
        };
    }

    static JinjaException undefinedOperand(Object a, Object b) {
        return (a instanceof Undefined u ? u : (Undefined) b).error();
    }

    // --- truth and equality ---

    static boolean truthy(Object v) {
        return switch (v) {
            case PyNone n -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case BigInteger b -> b.signum() != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case Markup m -> !m.text().isEmpty();
            case List<?> l -> !l.isEmpty();
            case PyTuple t -> !t.items().isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            case Undefined u -> false;
            case PyRange r -> r.length() > 0;
            case DictView view -> !view.map().isEmpty();
            case LoopContext loop -> loop.length() > 0;
            default -> true;
        };
    }

    /** Python's {@code a == b}. */
    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (isNumber(a) && isNumber(b)) {
            return compareNumbers(a, b) == 0;
        }
        if (isString(a) && isString(b)) {
            return text(a).equals(text(b));
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            return sequenceEq(x, y);
        }
        if (a instanceof PyTuple x && b instanceof PyTuple y) {
            return sequenceEq(x.items(), y.items());
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                Object other = DictKeys.lookup(y, e.getKey());
                if (other == null || !eq(e.getValue(), other)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Undefined && b instanceof Undefined) {
            return true;
        }
        if (a instanceof PyRange x && b instanceof PyRange y) {
            return toList(x).equals(toList(y));
        }
        return false;
    }

    private static boolean sequenceEq(List<?> x, List<?> y) {
        if (x.size() != y.size()) {
            return false;
        }
        for (int i = 0; i < x.size(); i++) {
            if (!eq(x.get(i), y.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** Exact comparison of two Python numbers (an int and a float compare by value, not by rounding). */
    static int compareNumbers(Object a, Object b) {
        if (a instanceof Double || b instanceof Double) {
            double x = toDoubleLenient(a);
            double y = toDoubleLenient(b);
            if (Double.isNaN(x) || Double.isNaN(y)) {
                return Integer.MIN_VALUE; // unordered: never equal, never less
            }
            if (Double.isInfinite(x) || Double.isInfinite(y) || (a instanceof Double && b instanceof Double)) {
                return Double.compare(x == 0 ? 0.0 : x, y == 0 ? 0.0 : y);
            }
            return exact(a).compareTo(exact(b));
        }
        return bigInt(a).compareTo(bigInt(b));
    }

    private static double toDoubleLenient(Object v) {
        return v instanceof BigInteger b ? b.doubleValue() : toDouble(v);
    }

    private static BigDecimal exact(Object v) {
        return v instanceof Double d ? new BigDecimal(d) : new BigDecimal(bigInt(v));
    }

    /** Python's {@code <}, {@code <=}, {@code >}, {@code >=} ({@code op} is lt, lteq, gt, gteq). */
    static boolean compare(String op, Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            throw undefinedOperand(a, b);
        }
        int c = order(op, a, b);
        if (c == Integer.MIN_VALUE) {
            return false;
        }
        return switch (op) {
            case "lt" -> c < 0;
            case "lteq" -> c <= 0;
            case "gt" -> c > 0;
            default -> c >= 0;
        };
    }

    /** Three-way order for {@code <} and sorting; TypeError for values Python does not order. */
    static int order(String op, Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return compareNumbers(a, b);
        }
        if (isString(a) && isString(b)) {
            return PyStrings.compareCodePoints(text(a), text(b));
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            return sequenceOrder(op, x, y);
        }
        if (a instanceof PyTuple x && b instanceof PyTuple y) {
            return sequenceOrder(op, x.items(), y.items());
        }
        String symbol = switch (op) {
            case "lt" -> "<";
            case "lteq" -> "<=";
            case "gt" -> ">";
            default -> ">=";
        };
        throw JinjaException.typeError("'" + symbol + "' not supported between instances of '" + typeName(a)
                + "' and '" + typeName(b) + "'");
    }

    private static int sequenceOrder(String op, List<?> x, List<?> y) {
        for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
            if (!eq(x.get(i), y.get(i))) {
                return order(op, x.get(i), y.get(i));
            }
        }
        return Integer.compare(x.size(), y.size());
    }

    // --- arithmetic ---

    static Object add(Object a, Object b, Budget budget) {
        if (a instanceof Undefined || b instanceof Undefined) {
            throw undefinedOperand(a, b);
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) + toDouble(b);
            }
            return normalize(bigInt(a).add(bigInt(b)));
        }
        if (isString(a)) {
            if (!isString(b)) {
                throw JinjaException.typeError("can only concatenate str (not \"" + typeName(b) + "\") to str");
            }
            if (a instanceof Markup || b instanceof Markup) {
                String left = a instanceof Markup m ? m.text() : Filters.escapeHtml(text(a));
                String right = b instanceof Markup m ? m.text() : Filters.escapeHtml(text(b));
                budget.chars(left.length() + (long) right.length());
                return new Markup(left.concat(right));
            }
            budget.chars(text(a).length() + (long) text(b).length());
            return text(a).concat(text(b));
        }
        if (a instanceof List<?> x) {
            if (!(b instanceof List<?> y)) {
                throw JinjaException.typeError("can only concatenate list (not \"" + typeName(b) + "\") to list");
            }
            budget.elements(x.size() + (long) y.size());
            List<Object> out = new ArrayList<>(x);
            out.addAll(y);
            return Collections.unmodifiableList(out);
        }
        if (a instanceof PyTuple x) {
            if (!(b instanceof PyTuple y)) {
                throw JinjaException.typeError("can only concatenate tuple (not \"" + typeName(b) + "\") to tuple");
            }
            budget.elements(x.items().size() + (long) y.items().size());
            List<Object> out = new ArrayList<>(x.items());
            out.addAll(y.items());
            return new PyTuple(out);
        }
        throw unsupported("+", a, b);
    }

    static JinjaException unsupported(String op, Object a, Object b) {
        return JinjaException.typeError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static Object sub(Object a, Object b) {
        checkNumbers("-", a, b);
        if (a instanceof Double || b instanceof Double) {
            return toDouble(a) - toDouble(b);
        }
        return normalize(bigInt(a).subtract(bigInt(b)));
    }

    static Object mul(Object a, Object b, Budget budget) {
        if (a instanceof Undefined || b instanceof Undefined) {
            throw undefinedOperand(a, b);
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) * toDouble(b);
            }
            return normalize(bigInt(a).multiply(bigInt(b)));
        }
        boolean aSeq = isSequence(a);
        boolean bSeq = isSequence(b);
        if (aSeq || bSeq) {
            Object seq = aSeq ? a : b;
            Object count = aSeq ? b : a;
            if (!isInt(count)) {
                throw JinjaException.typeError("can't multiply sequence by non-int of type '" + typeName(count) + "'");
            }
            BigInteger n = bigInt(count).max(BigInteger.ZERO);
            return repeat(seq, n, budget);
        }
        throw unsupported("*", a, b);
    }

    private static boolean isSequence(Object v) {
        return isString(v) || v instanceof List || v instanceof PyTuple;
    }

    private static Object repeat(Object seq, BigInteger times, Budget budget) {
        long size = len(seq);
        BigInteger total = times.multiply(BigInteger.valueOf(size));
        if (total.bitLength() > 62) {
            throw JinjaException.limit("a repetition in the template would create " + total + " items");
        }
        long n = times.longValue();
        if (isString(seq)) {
            String s = text(seq);
            budget.chars(s.length() * n);
            String out = s.repeat((int) n);
            return seq instanceof Markup ? new Markup(out) : out;
        }
        List<?> items = seq instanceof PyTuple t ? t.items() : (List<?>) seq;
        budget.elements(total.longValue());
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            out.addAll(items);
        }
        return seq instanceof PyTuple ? new PyTuple(out) : Collections.unmodifiableList(out);
    }

    static Object div(Object a, Object b) {
        checkNumbers("/", a, b);
        if (isInt(a) && isInt(b)) {
            BigInteger y = bigInt(b);
            if (y.signum() == 0) {
                throw zeroDivision("division by zero");
            }
            BigInteger x = bigInt(a);
            if (x.bitLength() <= 53 && y.bitLength() <= 53) {
                return x.doubleValue() / y.doubleValue();
            }
            return new BigDecimal(x).divide(new BigDecimal(y), java.math.MathContext.DECIMAL128).doubleValue();
        }
        double y = toDouble(b);
        if (y == 0) {
            throw zeroDivision("float division by zero");
        }
        return toDouble(a) / y;
    }

    static Object floorDiv(Object a, Object b) {
        checkNumbers("//", a, b);
        if (isInt(a) && isInt(b)) {
            BigInteger y = bigInt(b);
            if (y.signum() == 0) {
                throw zeroDivision("integer division or modulo by zero");
            }
            BigInteger[] qr = bigInt(a).divideAndRemainder(y);
            BigInteger q = qr[0];
            if (qr[1].signum() != 0 && (qr[1].signum() != y.signum())) {
                q = q.subtract(BigInteger.ONE);
            }
            return normalize(q);
        }
        double y = toDouble(b);
        if (y == 0) {
            throw zeroDivision("float floor division by zero");
        }
        return floatDivMod(toDouble(a), y)[0];
    }

    static Object mod(Object a, Object b, Budget budget) {
        if (isString(a) && !(b instanceof Undefined)) {
            return PyFormat.percent(text(a), b, budget);
        }
        checkNumbers("%", a, b);
        if (isInt(a) && isInt(b)) {
            BigInteger y = bigInt(b);
            if (y.signum() == 0) {
                throw zeroDivision("integer modulo by zero");
            }
            BigInteger r = bigInt(a).mod(y.abs());
            if (y.signum() < 0 && r.signum() != 0) {
                r = r.add(y);
            }
            return normalize(r);
        }
        double y = toDouble(b);
        if (y == 0) {
            throw zeroDivision("float modulo");
        }
        return floatDivMod(toDouble(a), y)[1];
    }

    /** CPython's {@code float_divmod}: floor quotient and remainder with the divisor's sign. */
    private static double[] floatDivMod(double vx, double wx) {
        double mod = vx % wx;
        double div = (vx - mod) / wx;
        if (mod != 0) {
            if ((wx < 0) != (mod < 0)) {
                mod += wx;
                div -= 1.0;
            }
        } else {
            mod = Math.copySign(0.0, wx);
        }
        double floorDiv;
        if (div != 0) {
            floorDiv = Math.floor(div);
            if (div - floorDiv > 0.5) {
                floorDiv += 1.0;
            }
        } else {
            floorDiv = Math.copySign(0.0, vx / wx);
        }
        return new double[] {floorDiv, mod};
    }

    static Object pow(Object a, Object b) {
        checkNumbers("** or pow()", a, b);
        if (isInt(a) && isInt(b) && bigInt(b).signum() >= 0) {
            BigInteger base = bigInt(a);
            BigInteger exponent = bigInt(b);
            if (base.abs().compareTo(BigInteger.ONE) <= 0) {
                // 0, 1 and -1 stay small whatever the exponent
                if (base.signum() == 0) {
                    return exponent.signum() == 0 ? 1L : 0L;
                }
                return base.signum() < 0 && exponent.testBit(0) ? -1L : 1L;
            }
            if (exponent.bitLength() > 31 || (long) base.bitLength() * exponent.intValue() > MAX_INT_BITS) {
                throw JinjaException.limit("an integer in the template grew beyond " + MAX_INT_BITS + " bits");
            }
            return normalize(base.pow(exponent.intValue()));
        }
        double x = toDouble(a);
        double y = toDouble(b);
        if (x == 0 && y < 0) {
            throw zeroDivision("0.0 cannot be raised to a negative power");
        }
        if (x < 0 && y != Math.rint(y)) {
            throw JinjaException.runtime("ValueError", "complex results are not supported by this engine");
        }
        return Math.pow(x, y);
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) {
            throw u.error();
        }
        if (v instanceof Double d) {
            return -d;
        }
        if (isInt(v)) {
            return normalize(bigInt(v).negate());
        }
        throw JinjaException.typeError("bad operand type for unary -: '" + typeName(v) + "'");
    }

    static Object plus(Object v) {
        if (v instanceof Undefined u) {
            throw u.error();
        }
        if (v instanceof Double) {
            return v;
        }
        if (isInt(v)) {
            return normalize(bigInt(v));
        }
        throw JinjaException.typeError("bad operand type for unary +: '" + typeName(v) + "'");
    }

    private static void checkNumbers(String op, Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            throw undefinedOperand(a, b);
        }
        if (!isNumber(a) || !isNumber(b)) {
            throw unsupported(op, a, b);
        }
    }

    private static JinjaException zeroDivision(String message) {
        return JinjaException.runtime("ZeroDivisionError", message);
    }

    // --- containers ---

    /** Python's {@code item in container}. */
    static boolean contains(Object container, Object item) {
        return switch (container) {
            case String s -> PyStrings.contains(s, item);
            case Markup m -> PyStrings.contains(m.text(), item);
            case List<?> l -> l.stream().anyMatch(x -> eq(x, item));
            case PyTuple t -> t.items().stream().anyMatch(x -> eq(x, item));
            case Map<?, ?> m -> {
                DictKeys.requireHashable(item);
                yield DictKeys.lookup(m, item) != null;
            }
            case DictView view -> toList(view).stream().anyMatch(x -> eq(x, item));
            case Undefined u -> false;
            case PyRange r -> toList(r).stream().anyMatch(x -> eq(x, item));
            case PyIterator it -> {
                Iterator<Object> i = it.iterator();
                while (i.hasNext()) {
                    if (eq(i.next(), item)) {
                        yield true;
                    }
                }
                yield false;
            }
            default -> throw JinjaException.typeError("argument of type '" + typeName(container) + "' is not iterable");
        };
    }

    /** Python's {@code iter(v)}: the items a {@code for} loop sees. */
    static Iterator<Object> iterate(Object v) {
        return switch (v) {
            case String s -> PyStrings.characters(s).iterator();
            case Markup m -> PyStrings.characters(m.text()).iterator();
            case PyIterator it -> it.iterator();
            case Undefined u -> Collections.emptyIterator();
            default -> {
                if (!isIterable(v)) {
                    throw JinjaException.typeError("'" + typeName(v) + "' object is not iterable");
                }
                yield toList(v).iterator();
            }
        };
    }

    static boolean isIterable(Object v) {
        return isString(v) || v instanceof List || v instanceof PyTuple || v instanceof Map || v instanceof DictView
                || v instanceof Undefined || v instanceof PyRange || v instanceof PyIterator
                || v instanceof LoopContext;
    }

    /** Python's {@code list(v)}. */
    @SuppressWarnings("unchecked")
    static List<Object> toList(Object v) {
        return switch (v) {
            case List<?> l -> (List<Object>) l;
            case PyTuple t -> t.items();
            case Map<?, ?> m -> List.copyOf(m.keySet());
            case DictView view -> switch (view.kind()) {
                case KEYS -> List.copyOf(view.map().keySet());
                case VALUES -> List.copyOf(view.map().values());
                case ITEMS -> view.map().entrySet().stream()
                        .map(e -> (Object) new PyTuple(List.of(e.getKey(), e.getValue()))).toList();
            };
            case PyRange r -> {
                List<Object> out = new ArrayList<>((int) r.length());
                for (long i = 0; i < r.length(); i++) {
                    out.add(r.get(i));
                }
                yield out;
            }
            case LoopContext loop -> loop.items();
            default -> {
                List<Object> out = new ArrayList<>();
                iterate(v).forEachRemaining(out::add);
                yield out;
            }
        };
    }

    /** Python's {@code len(v)}. */
    static long len(Object v) {
        return switch (v) {
            case String s -> PyStrings.length(s);
            case Markup m -> PyStrings.length(m.text());
            case List<?> l -> l.size();
            case PyTuple t -> t.items().size();
            case Map<?, ?> m -> m.size();
            case DictView view -> view.map().size();
            case Undefined u -> 0;
            case PyRange r -> r.length();
            case LoopContext loop -> loop.length();
            default -> throw JinjaException.typeError("object of type '" + typeName(v) + "' has no len()");
        };
    }
}
