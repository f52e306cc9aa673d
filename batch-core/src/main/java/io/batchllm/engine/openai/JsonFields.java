package io.batchllm.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed, range-checked reads of a request object's fields. Every failure is a
 * {@link RequestException} naming the field, what was expected and what was sent. A field that is
 * absent or JSON {@code null} counts as not given, as in OpenAI's API.
 *
 * <p>Error codes follow OpenAI's: {@code missing_required_parameter}, {@code invalid_type},
 * {@code integer_below_min_value}, {@code integer_above_max_value}, {@code decimal_below_min_value},
 * {@code decimal_above_max_value}.
 */
final class JsonFields {
    private final ObjectNode object;
    /** Prefix for param names of nested objects, such as {@code messages[2].}; empty at top level. */
    private final String prefix;

    JsonFields(ObjectNode object, String prefix) {
        this.object = object;
        this.prefix = prefix;
    }

    /** The field's value, or null when absent or JSON null. */
    JsonNode get(String name) {
        JsonNode node = object.get(name);
        return node == null || node.isNull() ? null : node;
    }

    boolean has(String name) {
        return get(name) != null;
    }

    String param(String name) {
        return prefix + name;
    }

    JsonNode required(String name, String what) {
        JsonNode node = get(name);
        if (node == null) {
            throw new RequestException(param(name), "missing_required_parameter",
                    "missing required parameter " + param(name) + " (" + what + ")");
        }
        return node;
    }

    String requiredString(String name) {
        JsonNode node = required(name, "a string");
        if (!node.isTextual()) {
            throw invalidType(name, "a string", node);
        }
        return node.textValue();
    }

    Boolean optionalBoolean(String name) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            throw invalidType(name, "a boolean", node);
        }
        return node.booleanValue();
    }

    /** An integer in [min, max], or null when not given. */
    Integer optionalInt(String name, int min, int max) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        if (!node.isIntegralNumber()) {
            throw invalidType(name, "an integer", node);
        }
        boolean fits = node.canConvertToInt();
        if (!fits && node.bigIntegerValue().signum() < 0 || fits && node.intValue() < min) {
            throw new RequestException(param(name), "integer_below_min_value",
                    param(name) + " must be " + range(min, max) + ", got " + node);
        }
        if (!fits || node.intValue() > max) {
            throw new RequestException(param(name), "integer_above_max_value",
                    param(name) + " must be " + range(min, max) + ", got " + node);
        }
        return node.intValue();
    }

    /** Any 64-bit integer, or null when not given. */
    Long optionalLong(String name) {
        JsonNode node = get(name);
        if (node == null) {
            return null;
        }
        if (!node.isIntegralNumber()) {
            throw invalidType(name, "an integer", node);
        }
        if (!node.canConvertToLong()) {
            boolean negative = node.bigIntegerValue().signum() < 0;
            throw new RequestException(param(name), negative ? "integer_below_min_value" : "integer_above_max_value",
                    param(name) + " must be a 64-bit integer (between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE
                            + "), got " + node);
        }
        return node.longValue();
    }

    /** A number in [min, max], or {@code fallback} when not given. */
    double optionalNumber(String name, double min, double max, double fallback) {
        JsonNode node = get(name);
        if (node == null) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw invalidType(name, "a number", node);
        }
        double value = node.doubleValue();
        if (!(value >= min)) {
            throw new RequestException(param(name), "decimal_below_min_value",
                    param(name) + " must be between " + format(min) + " and " + format(max) + ", got " + node);
        }
        if (!(value <= max)) {
            throw new RequestException(param(name), "decimal_above_max_value",
                    param(name) + " must be between " + format(min) + " and " + format(max) + ", got " + node);
        }
        return value;
    }

    /**
     * The fields of {@code node}, an object whose keys must all be {@code known} (nested request
     * objects such as a tool or {@code response_format}: nothing in them is silently ignored).
     *
     * @param what what the object should be, for the message when it is not an object
     * @throws RequestException naming the parameter: not an object, or an unknown key and the known ones
     */
    static JsonFields object(JsonNode node, String param, Set<String> known, String what) {
        if (!node.isObject()) {
            throw wrongType(param, what, node);
        }
        for (String key : (Iterable<String>) node::fieldNames) {
            if (!known.contains(key)) {
                throw new RequestException(param + "." + key, "invalid_value", "Unrecognized argument " + param + "."
                        + key + "; " + param + " takes " + String.join(", ", new TreeSet<>(known)));
            }
        }
        return new JsonFields((ObjectNode) node, param + ".");
    }

    RequestException invalidType(String name, String expected, JsonNode actual) {
        return wrongType(param(name), expected, actual);
    }

    static RequestException wrongType(String param, String expected, JsonNode actual) {
        return new RequestException(param, "invalid_type",
                param + " must be " + expected + ", got " + describe(actual));
    }

    /** A short description of a JSON value for error messages: its type, and the value if small. */
    static String describe(JsonNode node) {
        String type = switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case BOOLEAN -> "a boolean";
            case NUMBER -> node.isIntegralNumber() ? "an integer" : "a decimal number";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
        String text = node.toString();
        return text.length() <= 40 ? type + " (" + text + ")" : type;
    }

    private static String range(int min, int max) {
        return max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
    }

    /** 2.0 prints as "2": the ranges in messages read like OpenAI's documentation. */
    static String format(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }
}
