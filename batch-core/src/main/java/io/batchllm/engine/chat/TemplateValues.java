package io.batchllm.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as the plain values chat templates take ({@link ChatTemplate#render}'s variables): objects as
 * maps in their key order, arrays as lists, strings, integers as {@link Long} (or {@link
 * java.math.BigInteger}), other numbers as {@link Double}, booleans, null. Stateless.
 */
public final class TemplateValues {
    private TemplateValues() {
    }

    /** The template value of {@code node}. */
    public static Object of(JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                node.properties().forEach(e -> map.put(e.getKey(), of(e.getValue())));
                yield map;
            }
            case ARRAY -> {
                List<Object> list = new ArrayList<>(node.size());
                node.forEach(item -> list.add(of(item)));
                yield list;
            }
            case STRING -> node.textValue();
            case BOOLEAN -> node.booleanValue();
            case NUMBER -> node.isIntegralNumber() ? (Object) (node.canConvertToLong() ? node.longValue()
                    : node.bigIntegerValue()) : (Object) node.doubleValue();
            default -> null;
        };
    }
}
