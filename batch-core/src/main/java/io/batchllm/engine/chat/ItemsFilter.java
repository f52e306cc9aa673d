package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELException;

/**
 * Jinja2's {@code items} filter ({@code for k, v in d | items}), which Jinjava lacks; Llama 3.1
 * uses it for built-in tool calls. Returns the map's entries, which Jinjava's {@code for} unpacks
 * into key and value as it does for {@code d.items()}. Undefined gives an empty list, as in Jinja2.
 */
final class ItemsFilter implements Filter {

    @Override
    public String getName() {
        return "items";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        if (var == null) {
            return List.of();
        }
        if (var instanceof Map<?, ?> map) {
            return new ArrayList<>(map.entrySet());
        }
        throw new ELException("items filter: expected a mapping, got " + var.getClass().getSimpleName());
    }
}
