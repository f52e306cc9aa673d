package io.batchllm.engine.chat.jinja;

import java.util.List;
import java.util.Map;

/** Python's dict-key rules on Java maps: {@code 1}, {@code 1.0} and {@code True} are the same key. */
final class DictKeys {
    private DictKeys() {
    }

    /** The value stored under a key equal to {@code key}, or null when there is none. */
    static Object lookup(Map<?, ?> map, Object key) {
        Object direct = map.get(key);
        if (direct != null || !(Py.isNumber(key) || key instanceof Markup)) {
            return direct;
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (Py.eq(e.getKey(), key)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** Python refuses lists, dicts and views as keys and set members. */
    static void requireHashable(Object key) {
        switch (key) {
            case List<?> l -> throw unhashable(key);
            case Map<?, ?> m -> throw unhashable(key);
            case DictView v -> throw unhashable(key);
            case PyTuple t -> t.items().forEach(DictKeys::requireHashable);
            default -> {
                // hashable
            }
        }
    }

    private static JinjaException unhashable(Object key) {
        return JinjaException.typeError("unhashable type: '" + Py.typeName(key) + "'");
    }
}
