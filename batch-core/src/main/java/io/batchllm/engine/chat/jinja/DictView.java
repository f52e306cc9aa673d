package io.batchllm.engine.chat.jinja;

import java.util.Map;

/** What {@code d.keys()}, {@code d.values()} and {@code d.items()} return. */
record DictView(Kind kind, Map<Object, Object> map) {

    enum Kind {
        KEYS("dict_keys"), VALUES("dict_values"), ITEMS("dict_items");

        final String pythonName;

        Kind(String pythonName) {
            this.pythonName = pythonName;
        }
    }
}
