package io.batchllm.engine.chat.jinja;

import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The global functions of a chat template: jinja2's ({@code range} with the sandbox's limit,
 * {@code dict}, {@code namespace}, {@code cycler}, {@code joiner}) and Hugging Face's
 * ({@code raise_exception}, {@code strftime_now}).
 */
final class Globals {
    /** jinja2's sandbox refuses ranges longer than this ({@code MAX_RANGE}). */
    static final int MAX_RANGE = 100_000;

    private Globals() {
    }

    /** The function named {@code name}, or null. */
    static PyCallable get(String name, Clock clock) {
        return switch (name) {
            case "range" -> Globals::range;
            case "dict" -> Globals::dict;
            case "namespace" -> Globals::namespace;
            case "cycler" -> (r, args, kwargs) -> {
                noKeywords("cycler", kwargs);
                if (args.isEmpty()) {
                    throw JinjaException.typeError("Cycler.__init__() missing at least one item");
                }
                return new Cycler(args);
            };
            case "joiner" -> (r, args, kwargs) -> {
                Signature.Bound b = Signature.of("joiner", "sep=").bind(args, kwargs);
                return new Joiner(PyRepr.str(b.get(0, ", ")));
            };
            case "lipsum" -> (r, args, kwargs) -> {
                throw JinjaException.runtime("TemplateRuntimeError", "lipsum() is not supported by this engine");
            };
            case "raise_exception" -> (r, args, kwargs) -> {
                Signature.Bound b = Signature.of("raise_exception", "message").bind(args, kwargs);
                throw new JinjaException(JinjaException.Kind.RAISED, "TemplateError", PyRepr.str(b.get(0, null)), 0);
            };
            case "strftime_now" -> (r, args, kwargs) -> {
                Signature.Bound b = Signature.of("strftime_now", "format").bind(args, kwargs);
                Object format = b.get(0, null);
                if (!Py.isString(format)) {
                    throw JinjaException.typeError("strftime() argument 1 must be str, not " + Py.typeName(format));
                }
                // Hugging Face calls datetime.now(): local time, naive (so %z and %Z print nothing)
                return Strftime.format(LocalDateTime.now(clock), Py.text(format));
            };
            default -> null;
        };
    }

    private static void noKeywords(String function, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) {
            throw JinjaException.typeError(function + "() got an unexpected keyword argument '"
                    + kwargs.keySet().iterator().next() + "'");
        }
    }

    private static Object range(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) {
            throw JinjaException.typeError("range() takes no keyword arguments");
        }
        if (args.isEmpty() || args.size() > 3) {
            throw JinjaException.typeError(args.isEmpty() ? "range expected at least 1 argument, got 0"
                    : "range expected at most 3 arguments, got " + args.size());
        }
        long[] v = new long[args.size()];
        for (int i = 0; i < v.length; i++) {
            if (!Py.isInt(args.get(i))) {
                throw JinjaException.typeError("'" + Py.typeName(args.get(i)) + "' object cannot be interpreted as an"
                        + " integer");
            }
            v[i] = Py.toLong(args.get(i), "range()");
        }
        PyRange range = switch (v.length) {
            case 1 -> new PyRange(0, v[0], 1);
            case 2 -> new PyRange(v[0], v[1], 1);
            default -> {
                if (v[2] == 0) {
                    throw JinjaException.runtime("ValueError", "range() arg 3 must not be zero");
                }
                yield new PyRange(v[0], v[1], v[2]);
            }
        };
        if (range.length() > MAX_RANGE) {
            throw JinjaException.runtime("OverflowError", "Range too big. The sandbox blocks ranges larger than"
                    + " MAX_RANGE (" + MAX_RANGE + ").");
        }
        return range;
    }

    private static Object dict(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
        if (args.size() > 1) {
            throw JinjaException.typeError("dict expected at most 1 argument, got " + args.size());
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        if (!args.isEmpty()) {
            pairsInto(args.getFirst(), out, "dict");
        }
        out.putAll(kwargs);
        renderer.budget().elements(out.size());
        return Collections.unmodifiableMap(out);
    }

    private static Object namespace(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
        if (args.size() > 1) {
            throw JinjaException.typeError("dict expected at most 1 argument, got " + args.size());
        }
        Namespace ns = new Namespace();
        if (!args.isEmpty()) {
            Map<Object, Object> initial = new LinkedHashMap<>();
            pairsInto(args.getFirst(), initial, "namespace");
            initial.forEach((k, v) -> ns.attributes.put(PyRepr.str(k), v));
        }
        ns.attributes.putAll(kwargs);
        return ns;
    }

    /** {@code dict(mapping)} or {@code dict(iterable of pairs)}. */
    private static void pairsInto(Object source, Map<Object, Object> out, String function) {
        if (source instanceof Map<?, ?> m) {
            out.putAll(m);
            return;
        }
        if (source instanceof Namespace ns) {
            throw JinjaException.typeError("'Namespace' object is not iterable");
        }
        List<Object> items = Py.toList(source);
        for (int i = 0; i < items.size(); i++) {
            List<Object> pair;
            try {
                pair = Py.toList(items.get(i));
            } catch (JinjaException e) {
                throw JinjaException.typeError("cannot convert dictionary update sequence element #" + i
                        + " to a sequence");
            }
            if (pair.size() != 2) {
                throw JinjaException.runtime("ValueError", "dictionary update sequence element #" + i + " has length "
                        + pair.size() + "; 2 is required");
            }
            DictKeys.requireHashable(pair.get(0));
            out.put(pair.get(0), pair.get(1));
        }
    }

    /** jinja2's {@code cycler(*items)}: {@code next()}, {@code reset()}, {@code current}. */
    static final class Cycler {
        private final List<Object> items;
        private int position;

        Cycler(List<Object> items) {
            this.items = new ArrayList<>(items);
        }

        Object attribute(String name) {
            return switch (name) {
                case "current" -> items.get(position);
                case "items" -> Collections.unmodifiableList(items);
                case "next", "reset" -> new BoundMethod(this, name);
                default -> null;
            };
        }

        Object call(String name, List<Object> args) {
            if (!args.isEmpty()) {
                throw JinjaException.typeError("Cycler." + name + "() takes no arguments");
            }
            if (name.equals("reset")) {
                position = 0;
                return PyNone.NONE;
            }
            Object current = items.get(position);
            position = (position + 1) % items.size();
            return current;
        }
    }

    /** jinja2's {@code joiner(sep)}: "" the first time it is called, {@code sep} after. */
    static final class Joiner implements PyCallable {
        private final String separator;
        private boolean used;

        Joiner(String separator) {
            this.separator = separator;
        }

        @Override
        public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
            if (!used) {
                used = true;
                return "";
            }
            return separator;
        }
    }
}
