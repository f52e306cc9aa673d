package io.batchllm.engine.chat.jinja;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** jinja2's tests ({@code x is defined}, {@code x is iterable}, ...), with Python's semantics. */
final class Tests {
    private static final Set<String> NAMES = Set.of("odd", "even", "divisibleby", "defined", "undefined", "none",
            "boolean", "false", "true", "integer", "float", "lower", "upper", "string", "mapping", "number",
            "sequence", "iterable", "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">",
            "gt", "greaterthan", ">=", "ge", "<", "lt", "lessthan", "<=", "le", "filter", "test");

    private Tests() {
    }

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static boolean apply(Budget budget, String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        if (!exists(name)) {
            throw JinjaException.runtime("TemplateRuntimeError", "No test named '" + name + "' found.");
        }
        return switch (name) {
            case "defined" -> noArgs(name, args, kwargs, !(value instanceof Undefined));
            case "undefined" -> noArgs(name, args, kwargs, value instanceof Undefined);
            case "none" -> noArgs(name, args, kwargs, value instanceof PyNone);
            case "boolean" -> noArgs(name, args, kwargs, value instanceof Boolean);
            case "true" -> noArgs(name, args, kwargs, Boolean.TRUE.equals(value));
            case "false" -> noArgs(name, args, kwargs, Boolean.FALSE.equals(value));
            case "integer" -> noArgs(name, args, kwargs, value instanceof Long || value instanceof BigInteger);
            case "float" -> noArgs(name, args, kwargs, value instanceof Double);
            case "number" -> noArgs(name, args, kwargs, Py.isNumber(value));
            case "string" -> noArgs(name, args, kwargs, Py.isString(value));
            case "mapping" -> noArgs(name, args, kwargs, value instanceof Map);
            case "iterable" -> noArgs(name, args, kwargs, Py.isIterable(value));
            case "sequence" -> noArgs(name, args, kwargs, isSequence(value));
            case "callable" -> noArgs(name, args, kwargs, value instanceof PyCallable || value instanceof Undefined);
            case "escaped" -> noArgs(name, args, kwargs, value instanceof Markup);
            case "lower" -> noArgs(name, args, kwargs, PyStrings.isLower(PyRepr.str(value)));
            case "upper" -> noArgs(name, args, kwargs, PyStrings.isUpper(PyRepr.str(value)));
            case "odd" -> noArgs(name, args, kwargs, Py.eq(Py.mod(value, 2L, budget), 1L));
            case "even" -> noArgs(name, args, kwargs, Py.eq(Py.mod(value, 2L, budget), 0L));
            case "divisibleby" -> Py.eq(Py.mod(value, one(name, args, kwargs, "num"), budget), 0L);
            case "sameas" -> sameAs(value, one(name, args, kwargs, "other"));
            case "in" -> Py.contains(one(name, args, kwargs, "seq"), value);
            case "==", "eq", "equalto" -> Py.eq(value, one(name, args, kwargs, "other"));
            case "!=", "ne" -> !Py.eq(value, one(name, args, kwargs, "other"));
            case ">", "gt", "greaterthan" -> Py.compare("gt", value, one(name, args, kwargs, "other"));
            case ">=", "ge" -> Py.compare("gteq", value, one(name, args, kwargs, "other"));
            case "<", "lt", "lessthan" -> Py.compare("lt", value, one(name, args, kwargs, "other"));
            case "<=", "le" -> Py.compare("lteq", value, one(name, args, kwargs, "other"));
            case "filter" -> Filters.exists(PyRepr.str(value)) && noArgs(name, args, kwargs, true);
            default -> exists(PyRepr.str(value)) && noArgs(name, args, kwargs, true);
        };
    }

    /** jinja2's {@code test_sequence}: has a length and supports {@code []}. */
    private static boolean isSequence(Object v) {
        return Py.isString(v) || v instanceof List || v instanceof PyTuple || v instanceof Map || v instanceof PyRange
                || v instanceof Undefined;
    }

    private static boolean sameAs(Object a, Object b) {
        if (a == b || a instanceof PyNone && b instanceof PyNone) {
            return true;
        }
        if (a instanceof Boolean x && b instanceof Boolean y) {
            return x.equals(y);
        }
        // CPython caches the ints -5..256, so those are the same object
        return a instanceof Long x && b instanceof Long y && x.equals(y) && x >= -5 && x <= 256;
    }

    private static boolean noArgs(String name, List<Object> args, Map<String, Object> kwargs, boolean result) {
        if (!args.isEmpty() || !kwargs.isEmpty()) {
            throw JinjaException.typeError("test_" + name + "() takes 1 positional argument but "
                    + (1 + args.size() + kwargs.size()) + " were given");
        }
        return result;
    }

    private static Object one(String name, List<Object> args, Map<String, Object> kwargs, String param) {
        Signature.Bound b = Signature.of("test_" + name, "value", param).bind(prepend(args), kwargs);
        return b.get(1, null);
    }

    private static List<Object> prepend(List<Object> args) {
        List<Object> all = new java.util.ArrayList<>(args.size() + 1);
        all.add(PyNone.NONE);
        all.addAll(args);
        return all;
    }
}
