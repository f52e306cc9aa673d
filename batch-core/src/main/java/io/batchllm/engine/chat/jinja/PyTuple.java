package io.batchllm.engine.chat.jinja;

import java.util.List;

/** A Python tuple (a list prints and compares differently). */
record PyTuple(List<Object> items) {
    PyTuple {
        items = List.copyOf(items);
    }
}
