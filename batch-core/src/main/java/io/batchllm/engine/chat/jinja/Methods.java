package io.batchllm.engine.chat.jinja;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Attribute and item access as jinja2's {@code ImmutableSandboxedEnvironment} does it, and the
 * methods of Python values that templates call.
 *
 * <p>{@code obj.name} tries the attribute first, then the item ({@code message.content} reads the
 * key, {@code d.items} is the method even if the dict has an "items" key); {@code obj[key]} tries
 * the item first, then, for a string key, the attribute. What neither finds is {@link Undefined}.
 * Names starting with {@code _} and methods that would mutate a list or dict are refused by the
 * sandbox: they evaluate to an undefined value whose use is a {@code SecurityError}.
 */
final class Methods {
    private static final Set<String> STR_METHODS = Set.of("capitalize", "casefold", "center", "count", "endswith",
            "find", "format", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
            "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
            "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
            "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill");
    private static final Set<String> DICT_METHODS = Set.of("get", "items", "keys", "values", "copy");
    private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");
    private static final Set<String> LIST_METHODS = Set.of("index", "count", "copy");
    private static final Set<String> LIST_MUTATORS =
            Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");

    private Methods() {
    }

    /** {@code obj.name}. */
    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw u.error();
        }
        if (name.startsWith("_")) {
            return hasAttribute(obj, name) ? Undefined.unsafe(obj, name) : item(obj, name);
        }
        Object attribute = attribute(obj, name);
        if (attribute != null) {
            return attribute;
        }
        return item(obj, name);
    }

    /** The item lookup after a failed attribute lookup, else undefined. */
    private static Object item(Object obj, String name) {
        if (obj instanceof Map<?, ?> m) {
            Object v = DictKeys.lookup(m, name);
            if (v != null) {
                return v;
            }
        }
        return Undefined.member(obj, name);
    }

    private static boolean hasAttribute(Object obj, String name) {
        return name.startsWith("__") && name.endsWith("__"); // every Python object has dunder attributes
    }

    /** The attribute Python would find, or null. */
    private static Object attribute(Object obj, String name) {
        switch (obj) {
            case String s -> {
                return STR_METHODS.contains(name) ? new BoundMethod(obj, name) : null;
            }
            case Markup m -> {
                return STR_METHODS.contains(name) ? new BoundMethod(m.text(), name) : null;
            }
            case Map<?, ?> m -> {
                if (DICT_MUTATORS.contains(name)) {
                    return Undefined.unsafe(obj, name);
                }
                return DICT_METHODS.contains(name) ? new BoundMethod(obj, name) : null;
            }
            case List<?> l -> {
                if (LIST_MUTATORS.contains(name)) {
                    return Undefined.unsafe(obj, name);
                }
                return LIST_METHODS.contains(name) ? new BoundMethod(obj, name) : null;
            }
            case PyTuple t -> {
                return name.equals("index") || name.equals("count") ? new BoundMethod(obj, name) : null;
            }
            case Namespace ns -> {
                return ns.attributes.get(name);
            }
            case LoopContext loop -> {
                return loop.attribute(name);
            }
            case Macro macro -> {
                return macro.attribute(name);
            }
            case Globals.Cycler cycler -> {
                return cycler.attribute(name);
            }
            default -> {
                return null;
            }
        }
    }

    /** The {@code attr} filter: the attribute only, never the item. */
    static Object attrOnly(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw u.error();
        }
        if (name.startsWith("_")) {
            return hasAttribute(obj, name) ? Undefined.unsafe(obj, name) : Undefined.member(obj, name);
        }
        Object attribute = attribute(obj, name);
        return attribute != null ? attribute : Undefined.member(obj, name);
    }

    /** {@code obj[key]}. */
    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw u.error();
        }
        Object found = subscript(obj, key);
        if (found != null) {
            return found;
        }
        if (key instanceof String name) {
            if (name.startsWith("_")) {
                return hasAttribute(obj, name) ? Undefined.unsafe(obj, name) : Undefined.member(obj, key);
            }
            Object attribute = attribute(obj, name);
            if (attribute != null) {
                return attribute;
            }
        }
        return Undefined.member(obj, key);
    }

    /** Python's {@code obj[key]}, or null where Python raises a lookup or type error. */
    private static Object subscript(Object obj, Object key) {
        switch (obj) {
            case Map<?, ?> m -> {
                if (key instanceof List || key instanceof Map || key instanceof DictView) {
                    return null; // unhashable: TypeError, which jinja2 turns into undefined
                }
                return DictKeys.lookup(m, key);
            }
            case String s -> {
                return stringItem(s, key);
            }
            case Markup m -> {
                Object item = stringItem(m.text(), key);
                return item instanceof String text ? new Markup(text) : item;
            }
            case List<?> l -> {
                return sequenceItem(l, key, false);
            }
            case PyTuple t -> {
                return sequenceItem(t.items(), key, true);
            }
            case PyRange r -> {
                return sequenceItem(Py.toList(r), key, false);
            }
            default -> {
                return null;
            }
        }
    }

    private static Object stringItem(String s, Object key) {
        if (key instanceof SliceValue slice) {
            return PyStrings.slice(s, slice.start(), slice.stop(), slice.step());
        }
        if (Py.isInt(key)) {
            return PyStrings.charAt(s, Py.toLong(key, "string index"));
        }
        return null;
    }

    private static Object sequenceItem(List<?> items, Object key, boolean tuple) {
        if (key instanceof SliceValue slice) {
            List<Object> out = new ArrayList<>();
            for (int i : Slices.indices(items.size(), slice.start(), slice.stop(), slice.step())) {
                out.add(items.get(i));
            }
            return tuple ? new PyTuple(out) : Collections.unmodifiableList(out);
        }
        if (Py.isInt(key)) {
            long i = Py.toLong(key, "list index");
            if (i < 0) {
                i += items.size();
            }
            return i >= 0 && i < items.size() ? items.get((int) i) : null;
        }
        return null;
    }

    /** A slice as a subscript key: bounds already evaluated, each an int or null. */
    record SliceValue(Long start, Long stop, Long step) {
    }

    // --- methods ---

    static Object call(Renderer renderer, Object self, String name, List<Object> args, Map<String, Object> kwargs) {
        return switch (self) {
            case String s -> StrMethods.call(renderer, s, name, args, kwargs);
            case Map<?, ?> m -> dictMethod(m, name, args, kwargs);
            case List<?> l -> sequenceMethod(l, name, args, kwargs);
            case PyTuple t -> sequenceMethod(t.items(), name, args, kwargs);
            case LoopContext loop -> loop.call(name, args, kwargs);
            case Globals.Cycler cycler -> cycler.call(name, args);
            default -> throw JinjaException.typeError("'" + Py.typeName(self) + "' object has no method " + name);
        };
    }

    @SuppressWarnings("unchecked")
    private static Object dictMethod(Map<?, ?> map, String name, List<Object> args, Map<String, Object> kwargs) {
        Map<Object, Object> m = (Map<Object, Object>) map;
        Args a = new Args("dict." + name, args, kwargs);
        return switch (name) {
            case "get" -> {
                a.noKeywords();
                a.count(1, 2);
                DictKeys.requireHashable(args.getFirst());
                Object v = DictKeys.lookup(m, args.getFirst());
                yield v != null ? v : args.size() > 1 ? args.get(1) : PyNone.NONE;
            }
            case "items" -> {
                a.none();
                yield new DictView(DictView.Kind.ITEMS, m);
            }
            case "keys" -> {
                a.none();
                yield new DictView(DictView.Kind.KEYS, m);
            }
            case "values" -> {
                a.none();
                yield new DictView(DictView.Kind.VALUES, m);
            }
            default -> {
                a.none();
                yield m;
            }
        };
    }

    private static Object sequenceMethod(List<?> items, String name, List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args(name, args, kwargs);
        a.noKeywords();
        return switch (name) {
            case "count" -> {
                a.count(1, 1);
                yield (long) items.stream().filter(x -> Py.eq(x, args.getFirst())).count();
            }
            case "index" -> {
                a.count(1, 1);
                for (int i = 0; i < items.size(); i++) {
                    if (Py.eq(items.get(i), args.getFirst())) {
                        yield (long) i;
                    }
                }
                throw JinjaException.runtime("ValueError", PyRepr.repr(args.getFirst()) + " is not in list");
            }
            default -> {
                a.count(0, 0);
                yield items;
            }
        };
    }
}
