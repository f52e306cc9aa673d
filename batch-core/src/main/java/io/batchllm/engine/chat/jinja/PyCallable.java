package io.batchllm.engine.chat.jinja;

import java.util.List;
import java.util.Map;

/** Something a template can call: a macro, a global function, a method of a value. */
interface PyCallable {

    /**
     * @param args positional arguments
     * @param kwargs keyword arguments, in the order written
     */
    Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs);
}
