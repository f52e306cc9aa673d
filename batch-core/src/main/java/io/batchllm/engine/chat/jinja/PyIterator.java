package io.batchllm.engine.chat.jinja;

import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;

/**
 * A one-shot Python iterator, as jinja2's {@code map}, {@code select}, {@code unique}, ... filters
 * return (generators): always true, no length, empty once consumed. A generator's items may be
 * computed only when it is first consumed, as jinja2's are.
 */
final class PyIterator {
    final String typeName;
    private Supplier<List<Object>> pending;
    private Iterator<Object> items;

    PyIterator(String typeName, List<Object> items) {
        this.typeName = typeName;
        this.items = items.iterator();
    }

    PyIterator(String typeName, Supplier<List<Object>> items) {
        this.typeName = typeName;
        this.pending = items;
    }

    Iterator<Object> iterator() {
        if (items == null) {
            items = pending.get().iterator();
            pending = null;
        }
        return items;
    }
}
