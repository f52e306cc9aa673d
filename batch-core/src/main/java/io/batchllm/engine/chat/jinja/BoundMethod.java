package io.batchllm.engine.chat.jinja;

import java.util.List;
import java.util.Map;

/** A method of a value ({@code s.strip}, {@code d.items}, {@code loop.cycle}), called later. */
record BoundMethod(Object self, String name) implements PyCallable {

    @Override
    public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
        return Methods.call(renderer, self, name, args, kwargs);
    }
}
