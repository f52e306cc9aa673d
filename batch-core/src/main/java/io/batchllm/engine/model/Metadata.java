package io.batchllm.engine.model;

import io.batchllm.engine.gguf.ModelFormatException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Typed reads of GGUF metadata held in a plain map (as {@code GgufFile.metadata()} returns it, or as a
 * test builds it), with errors that name the model and the key.
 */
final class Metadata {
    private final String source;
    private final Map<String, Object> values;

    Metadata(String source, Map<String, Object> values) {
        this.source = source;
        this.values = values;
    }

    String source() {
        return source;
    }

    /** The value as stored, or null when absent. */
    Object raw(String key) {
        return values.get(key);
    }

    Optional<String> string(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof String s) {
            return Optional.of(s);
        }
        throw wrongType(key, "a string", v);
    }

    String requireString(String key) {
        return string(key).orElseThrow(() -> missing(key));
    }

    Optional<Long> integer(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return Optional.of(((Number) v).longValue());
        }
        throw wrongType(key, "an integer", v);
    }

    /** A positive int; absent keys take {@code fallback} (which the caller has already checked). */
    int positiveInt(String key, int fallback) {
        Optional<Long> v = integer(key);
        if (v.isEmpty()) {
            return fallback;
        }
        long n = v.get();
        if (n <= 0 || n > Integer.MAX_VALUE) {
            throw new ModelFormatException(source + ": metadata '" + key + "' = " + n
                    + " is out of range (expected 1.." + Integer.MAX_VALUE + ")");
        }
        return (int) n;
    }

    int requirePositiveInt(String key) {
        if (!values.containsKey(key)) {
            throw missing(key);
        }
        return positiveInt(key, -1);
    }

    Optional<Double> number(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Number n) {
            return Optional.of(n.doubleValue());
        }
        throw wrongType(key, "a number", v);
    }

    double requireNumber(String key) {
        return number(key).orElseThrow(() -> missing(key));
    }

    /** The length of an array value, if present. */
    Optional<Integer> arrayLength(String key) {
        Object v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof List<?> l) {
            return Optional.of(l.size());
        }
        if (v.getClass().isArray()) {
            return Optional.of(java.lang.reflect.Array.getLength(v));
        }
        throw wrongType(key, "an array", v);
    }

    ModelFormatException missing(String key) {
        return new ModelFormatException(source + ": required metadata key '" + key + "' is missing");
    }

    ModelFormatException invalid(String key, Object value, String why) {
        return new ModelFormatException(source + ": metadata '" + key + "' = " + value + " " + why);
    }

    private ModelFormatException wrongType(String key, String expected, Object v) {
        return new ModelFormatException(source + ": metadata '" + key + "' should be " + expected + " but is a "
                + v.getClass().getSimpleName());
    }
}
