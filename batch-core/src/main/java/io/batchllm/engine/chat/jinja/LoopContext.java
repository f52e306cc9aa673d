package io.batchllm.engine.chat.jinja;

import java.util.List;
import java.util.Map;

/**
 * jinja2's {@code loop} variable inside a {@code for}: {@code index}, {@code index0},
 * {@code revindex}, {@code revindex0}, {@code first}, {@code last}, {@code length},
 * {@code previtem}, {@code nextitem}, {@code depth}, {@code depth0}, {@code cycle(...)} and
 * {@code changed(...)}. Its position moves as the loop advances.
 */
final class LoopContext {
    private static final Object UNCHANGED = new Object();

    private final List<Object> items;
    private int index0;
    private Object lastChanged = UNCHANGED;

    LoopContext(List<Object> items) {
        this.items = items;
    }

    void moveTo(int i) {
        index0 = i;
    }

    List<Object> items() {
        return items;
    }

    long index() {
        return index0 + 1L;
    }

    long length() {
        return items.size();
    }

    Object attribute(String name) {
        return switch (name) {
            case "index" -> index();
            case "index0" -> (long) index0;
            case "revindex" -> length() - index0;
            case "revindex0" -> length() - index();
            case "first" -> index0 == 0;
            case "last" -> index0 == items.size() - 1;
            case "length" -> length();
            case "depth" -> 1L;
            case "depth0" -> 0L;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : Undefined.hinted("there is no previous item");
            case "nextitem" -> index0 + 1 < items.size() ? items.get(index0 + 1)
                    : Undefined.hinted("there is no next item");
            case "cycle", "changed" -> new BoundMethod(this, name);
            default -> null;
        };
    }

    Object call(String name, List<Object> args, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) {
            throw JinjaException.typeError("LoopContext." + name + "() got an unexpected keyword argument '"
                    + kwargs.keySet().iterator().next() + "'");
        }
        if (name.equals("cycle")) {
            if (args.isEmpty()) {
                throw JinjaException.typeError("no items for cycling given");
            }
            return args.get(index0 % args.size());
        }
        PyTuple value = new PyTuple(args);
        if (lastChanged == UNCHANGED || !Py.eq(lastChanged, value)) {
            lastChanged = value;
            return true;
        }
        return false;
    }
}
