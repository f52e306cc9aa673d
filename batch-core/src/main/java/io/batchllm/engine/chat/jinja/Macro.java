package io.batchllm.engine.chat.jinja;

import io.batchllm.engine.chat.jinja.Node.MacroSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A macro bound to the frame it was defined in, called as jinja2's {@code Macro.__call__} does:
 * positional arguments first, then keywords by name, defaults evaluated at call time (they may
 * refer to earlier parameters), a missing parameter without default is undefined; extra arguments
 * are an error unless the body reads {@code varargs}/{@code kwargs}. Returns the body's output.
 * A macro may call itself; the render's depth limit bounds the recursion.
 */
final class Macro implements PyCallable {
    private static final Object MISSING = new Object();

    private final MacroSpec spec;
    private final Scope closure;

    Macro(MacroSpec spec, Scope closure) {
        this.spec = spec;
        this.closure = closure;
    }

    String name() {
        return spec.name();
    }

    Object attribute(String name) {
        return switch (name) {
            case "name" -> spec.name();
            case "arguments" -> new PyTuple(new ArrayList<>(spec.params()));
            case "catch_kwargs" -> spec.usesKwargs();
            case "catch_varargs" -> spec.usesVarargs();
            case "caller" -> spec.usesCaller();
            default -> null;
        };
    }

    @Override
    public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
        List<String> params = spec.params();
        int count = params.size();
        List<Object> arguments = new ArrayList<>(args.subList(0, Math.min(count, args.size())));
        Map<String, Object> keywords = new LinkedHashMap<>(kwargs);
        boolean foundCaller;
        if (arguments.size() != count) {
            foundCaller = false;
            for (String name : params.subList(arguments.size(), count)) {
                arguments.add(keywords.containsKey(name) ? keywords.remove(name) : MISSING);
                foundCaller |= name.equals("caller");
            }
        } else {
            foundCaller = params.contains("caller");
        }
        Object caller = null;
        if (spec.usesCaller() && !foundCaller) {
            caller = keywords.remove("caller");
            if (caller == null) {
                caller = Undefined.hinted("No caller defined");
            }
        }
        if (!spec.usesKwargs() && !keywords.isEmpty()) {
            if (keywords.containsKey("caller")) {
                throw JinjaException.typeError("macro '" + name() + "' was invoked with two values for the special"
                        + " caller argument. This is most likely a bug.");
            }
            throw JinjaException.typeError("macro '" + name() + "' takes no keyword argument '"
                    + keywords.keySet().iterator().next() + "'");
        }
        if (!spec.usesVarargs() && args.size() > count) {
            throw JinjaException.typeError("macro '" + name() + "' takes not more than " + count + " argument(s)");
        }
        Scope scope = new Scope(closure);
        int firstDefault = count - spec.defaults().size();
        for (int i = 0; i < count; i++) {
            Object value = arguments.get(i);
            if (value == MISSING) {
                value = i >= firstDefault ? renderer.eval(spec.defaults().get(i - firstDefault), scope)
                        : Undefined.hinted("parameter '" + params.get(i) + "' was not provided");
            }
            scope.set(params.get(i), value);
        }
        if (caller != null) {
            scope.set("caller", caller);
        }
        if (spec.usesKwargs()) {
            scope.set("kwargs", Collections.unmodifiableMap(new LinkedHashMap<Object, Object>(keywords)));
        }
        if (spec.usesVarargs()) {
            scope.set("varargs", new PyTuple(args.size() > count ? args.subList(count, args.size()) : List.of()));
        }
        return renderer.capture(spec.body(), scope);
    }
}
