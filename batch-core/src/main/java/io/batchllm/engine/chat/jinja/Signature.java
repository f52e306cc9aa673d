package io.batchllm.engine.chat.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Python function signature, for binding a call's arguments to parameters the way Python does,
 * with Python's error messages ({@code do_trim() got an unexpected keyword argument 'x'}).
 *
 * @param function the function's name in messages
 * @param names the parameters in order
 * @param required how many leading parameters have no default
 * @param varargs whether extra positional arguments are collected
 * @param varkw whether extra keyword arguments are collected
 */
record Signature(String function, List<String> names, int required, boolean varargs, boolean varkw) {

    /** {@code of("do_trim", "value", "chars=")}: a trailing {@code =} marks a default, {@code *args}/{@code **kw}. */
    static Signature of(String function, String... params) {
        List<String> names = new ArrayList<>();
        int required = 0;
        boolean varargs = false;
        boolean varkw = false;
        for (String p : params) {
            if (p.startsWith("**")) {
                varkw = true;
            } else if (p.startsWith("*")) {
                varargs = true;
            } else if (p.endsWith("=")) {
                names.add(p.substring(0, p.length() - 1));
            } else {
                names.add(p);
                required = names.size();
            }
        }
        return new Signature(function, List.copyOf(names), required, varargs, varkw);
    }

    /** The arguments of one call, by parameter; a parameter not given is null. */
    record Bound(Object[] values, List<Object> extraPositional, Map<String, Object> extraKeywords) {

        Object get(int i, Object fallback) {
            return values[i] != null ? values[i] : fallback;
        }

        boolean has(int i) {
            return values[i] != null;
        }
    }

    Bound bind(List<Object> args, Map<String, Object> kwargs) {
        Object[] values = new Object[names.size()];
        List<Object> extra = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (i < values.length) {
                values[i] = args.get(i);
            } else if (varargs) {
                extra.add(args.get(i));
            } else {
                throw tooMany(args.size());
            }
        }
        Map<String, Object> extraKw = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : kwargs.entrySet()) {
            int i = names.indexOf(e.getKey());
            if (i < 0) {
                if (!varkw) {
                    throw JinjaException.typeError(function + "() got an unexpected keyword argument '" + e.getKey() + "'");
                }
                extraKw.put(e.getKey(), e.getValue());
            } else if (values[i] != null) {
                throw JinjaException.typeError(function + "() got multiple values for argument '" + e.getKey() + "'");
            } else {
                values[i] = e.getValue();
            }
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < required; i++) {
            if (values[i] == null) {
                missing.add("'" + names.get(i) + "'");
            }
        }
        if (!missing.isEmpty()) {
            String list = missing.size() == 1 ? missing.getFirst()
                    : String.join(", ", missing.subList(0, missing.size() - 1)) + " and " + missing.getLast();
            throw JinjaException.typeError(function + "() missing " + missing.size() + " required positional argument"
                    + (missing.size() == 1 ? "" : "s") + ": " + list);
        }
        return new Bound(values, extra, extraKw);
    }

    private JinjaException tooMany(int given) {
        String takes = required == names.size() ? String.valueOf(names.size())
                : "from " + required + " to " + names.size();
        return JinjaException.typeError(function + "() takes " + takes + " positional argument"
                + (names.size() == 1 && required == 1 ? "" : "s") + " but " + given + (given == 1 ? " was" : " were")
                + " given");
    }
}
