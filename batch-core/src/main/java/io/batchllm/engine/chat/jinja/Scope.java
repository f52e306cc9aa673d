package io.batchllm.engine.chat.jinja;

import java.util.HashMap;
import java.util.Map;

/**
 * The variables of one frame, as jinja2 scopes them: the template's top level, each iteration of
 * a loop, each macro call and each {@code with}, set-block and filter-block body has its own;
 * {@code if} has none. Assignments go into the current frame, reads walk outwards; a macro's frame
 * encloses the frame it was defined in (read when it runs, not when it was defined).
 */
final class Scope {
    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    /** The variable's value in this frame or an enclosing one, or null when none has it. */
    Object lookup(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            Object v = s.vars.get(name);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    void set(String name, Object value) {
        vars.put(name, value);
    }
}
