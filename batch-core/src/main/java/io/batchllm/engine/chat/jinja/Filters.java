package io.batchllm.engine.chat.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * jinja2's built-in filters (3.1), with Hugging Face's {@code tojson} in place of jinja2's, each
 * with jinja2's signature and behaviour: {@code trim} is Python's {@code str.strip},
 * {@code title} upper-cases after {@code [-\s({[<]}, {@code map}/{@code select}/{@code unique}
 * return one-shot generators (so {@code |length} on them fails as in jinja2), {@code default}
 * replaces only undefined values unless asked to, and so on.
 *
 * <p>jinja2 filters this engine does not implement ({@link #UNSUPPORTED}) compile, and fail with a
 * message when a render reaches them.
 */
final class Filters {
    private static final Set<String> NAMES = Set.of("abs", "attr", "batch", "capitalize", "center", "count", "d",
            "default", "dictsort", "e", "escape", "first", "float", "forceescape", "format", "indent", "int", "items",
            "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace",
            "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "sum", "title", "tojson",
            "trim", "truncate", "unique", "upper", "wordcount");
    /** jinja2 built-ins left out: none is used by chat templates. */
    static final Set<String> UNSUPPORTED = Set.of("filesizeformat", "groupby", "pprint", "random", "striptags",
            "urlencode", "urlize", "wordwrap", "xmlattr");
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern FLOAT = Pattern.compile(
            "[+-]?(?:(?:\\d(?:_?\\d)*)?\\.?\\d(?:_?\\d)*(?:[eE][+-]?\\d(?:_?\\d)*)?|\\d(?:_?\\d)*\\.|inf|infinity|nan)",
            Pattern.CASE_INSENSITIVE);

    private Filters() {
    }

    static boolean exists(String name) {
        return NAMES.contains(name) || UNSUPPORTED.contains(name);
    }

    static Object apply(Renderer r, String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        if (UNSUPPORTED.contains(name)) {
            throw JinjaException.runtime("TemplateRuntimeError", "the '" + name + "' filter is not supported by this"
                    + " engine");
        }
        if (!NAMES.contains(name)) {
            throw JinjaException.runtime("TemplateRuntimeError", "No filter named '" + name + "' found.");
        }
        Budget budget = r.budget();
        List<Object> all = new ArrayList<>(args.size() + 1);
        all.add(value);
        all.addAll(args);
        return switch (name) {
            case "abs" -> abs(bind("do_abs", all, kwargs, "x").get(0, null));
            case "attr" -> {
                Signature.Bound b = bind("do_attr", all, kwargs, "obj", "name");
                yield Methods.attrOnly(b.get(0, null), PyRepr.str(b.get(1, null)));
            }
            case "batch" -> batch(bind("do_batch", all, kwargs, "value", "linecount", "fill_with="), budget);
            case "capitalize" -> sameKind(value, PyStrings.capitalize(soft(bind("do_capitalize", all, kwargs, "s")
                    .get(0, null))));
            case "center" -> {
                Signature.Bound b = bind("do_center", all, kwargs, "value", "width=");
                long width = Py.toLong(b.get(1, 80L), "width");
                budget.chars(width);
                yield PyStrings.center(soft(b.get(0, null)), width, " ");
            }
            case "count", "length" -> {
                bind("len", all, kwargs, "obj");
                yield Py.len(value);
            }
            case "d", "default" -> {
                Signature.Bound b = bind("do_default", all, kwargs, "value", "default_value=", "boolean=");
                boolean useDefault = value instanceof Undefined || Py.truthy(b.get(2, false)) && !Py.truthy(value);
                yield useDefault ? b.get(1, "") : value;
            }
            case "dictsort" -> dictsort(bind("do_dictsort", all, kwargs, "value", "case_sensitive=", "by=", "reverse="),
                    budget);
            case "e", "escape" -> value instanceof Markup ? value : new Markup(escapeHtml(PyRepr.str(
                    bind("escape", all, kwargs, "s").get(0, null))));
            case "forceescape" -> new Markup(escapeHtml(PyRepr.str(bind("do_forceescape", all, kwargs, "value")
                    .get(0, null))));
            case "first" -> {
                bind("sync_do_first", all, kwargs, "seq");
                java.util.Iterator<Object> it = Py.iterate(value);
                yield it.hasNext() ? it.next() : Undefined.hinted("No first item, sequence was empty.");
            }
            case "last" -> {
                bind("do_last", all, kwargs, "seq");
                List<Object> items = reversible(value);
                yield items.isEmpty() ? Undefined.hinted("No last item, sequence was empty.") : items.getLast();
            }
            case "float" -> toFloat(bind("do_float", all, kwargs, "value", "default="));
            case "format" -> {
                Signature.Bound b = bind("do_format", all, kwargs, "value", "*args", "**kwargs");
                if (!b.extraPositional().isEmpty() && !b.extraKeywords().isEmpty()) {
                    throw filterArgument("can't handle positional and keyword arguments at the same time");
                }
                Object formatArgs = !b.extraKeywords().isEmpty() ? Collections.unmodifiableMap(
                        new java.util.LinkedHashMap<Object, Object>(b.extraKeywords())) : new PyTuple(b.extraPositional());
                yield PyFormat.percent(soft(value), formatArgs, budget);
            }
            case "indent" -> indent(bind("do_indent", all, kwargs, "s", "width=", "first=", "blank="), budget);
            case "int" -> toInt(bind("do_int", all, kwargs, "value", "default=", "base="));
            case "items" -> {
                bind("sync_do_items", all, kwargs, "value");
                if (value instanceof Undefined) {
                    yield new PyIterator("generator", List.of());
                }
                if (!(value instanceof Map<?, ?>)) {
                    throw JinjaException.typeError("Can only get item pairs from a mapping.");
                }
                yield new PyIterator("generator", Py.toList(new DictView(DictView.Kind.ITEMS, mapOf(value))));
            }
            case "join" -> join(r, bind("sync_do_join", all, kwargs, "value", "d=", "attribute="), budget);
            case "list" -> {
                bind("sync_do_list", all, kwargs, "value");
                List<Object> items = Py.toList(value);
                budget.elements(items.size());
                yield Collections.unmodifiableList(new ArrayList<>(items));
            }
            case "lower" -> sameKind(value, PyStrings.lower(soft(bind("do_lower", all, kwargs, "s").get(0, null))));
            case "upper" -> sameKind(value, PyStrings.upper(soft(bind("do_upper", all, kwargs, "s").get(0, null))));
            case "map" -> map(r, value, args, kwargs);
            case "max", "min" -> minMax(name, bind("do_" + name, all, kwargs, "value", "case_sensitive=", "attribute="));
            case "select", "reject" -> selectOrReject(r, value, args, kwargs, name.equals("select"), false);
            case "selectattr", "rejectattr" -> selectOrReject(r, value, args, kwargs, name.equals("selectattr"), true);
            case "replace" -> {
                Signature.Bound b = bind("do_replace", all, kwargs, "s", "old", "new", "count=");
                Object count = b.get(3, PyNone.NONE);
                long n = count instanceof PyNone ? -1 : Py.toLong(count, "count");
                yield StrMethods.call(r, PyRepr.str(b.get(0, null)), "replace",
                        List.of(PyRepr.str(b.get(1, null)), PyRepr.str(b.get(2, null)), n), Map.of());
            }
            case "reverse" -> reverse(bind("do_reverse", all, kwargs, "value").get(0, null));
            case "round" -> round(bind("do_round", all, kwargs, "value", "precision=", "method="));
            case "safe" -> new Markup(PyRepr.str(bind("do_mark_safe", all, kwargs, "value").get(0, null)));
            case "slice" -> slice(bind("sync_do_slice", all, kwargs, "value", "slices", "fill_with="));
            case "sort" -> sort(bind("do_sort", all, kwargs, "value", "reverse=", "case_sensitive=", "attribute="), budget);
            case "string" -> {
                bind("soft_str", all, kwargs, "s");
                yield value instanceof Markup ? value : PyRepr.str(value);
            }
            case "sum" -> sum(bind("sync_do_sum", all, kwargs, "iterable", "attribute=", "start="), budget);
            case "title" -> PyStrings.jinjaTitle(soft(bind("do_title", all, kwargs, "s").get(0, null)));
            case "tojson" -> {
                Signature.Bound b = bind("tojson", all, kwargs, "x", "ensure_ascii=", "indent=", "separators=",
                        "sort_keys=");
                yield PyJson.dumps(b.get(0, null), Py.truthy(b.get(1, false)), b.get(2, PyNone.NONE),
                        b.get(3, PyNone.NONE), Py.truthy(b.get(4, false)), budget);
            }
            case "trim" -> {
                Signature.Bound b = bind("do_trim", all, kwargs, "value", "chars=");
                Object chars = b.get(1, PyNone.NONE);
                String stripped = PyStrings.strip(soft(value), chars instanceof PyNone ? null : Py.text(chars), true, true);
                yield sameKind(value, stripped);
            }
            case "truncate" -> truncate(bind("do_truncate", all, kwargs, "s", "length=", "killwords=", "end=",
                    "leeway="));
            case "unique" -> unique(bind("do_unique", all, kwargs, "value", "case_sensitive=", "attribute="));
            default -> { // wordcount
                Matcher m = WORD.matcher(soft(bind("do_wordcount", all, kwargs, "s").get(0, null)));
                long n = 0;
                while (m.find()) {
                    n++;
                }
                yield n;
            }
        };
    }

    private static Signature.Bound bind(String function, List<Object> all, Map<String, Object> kwargs,
            String... params) {
        return Signature.of(function, params).bind(all, kwargs);
    }

    private static JinjaException filterArgument(String message) {
        return JinjaException.runtime("FilterArgumentError", message);
    }

    /** jinja2's {@code soft_str}: the value's {@code str()}, keeping it a string. */
    private static String soft(Object v) {
        return PyRepr.str(v);
    }

    /** String filters keep a {@link Markup} a Markup, as markupsafe's methods do. */
    private static Object sameKind(Object original, String result) {
        return original instanceof Markup ? new Markup(result) : result;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> mapOf(Object v) {
        return (Map<Object, Object>) v;
    }

    /** markupsafe's {@code escape}. */
    static String escapeHtml(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '\'' -> out.append("&#39;");
                case '"' -> out.append("&#34;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static Object abs(Object x) {
        if (x instanceof Double d) {
            return Math.abs(d);
        }
        if (Py.isInt(x)) {
            return Py.normalize(Py.bigInt(x).abs());
        }
        if (x instanceof Undefined u) {
            throw u.error();
        }
        throw JinjaException.typeError("bad operand type for abs(): '" + Py.typeName(x) + "'");
    }

    /** {@code make_attrgetter}: dotted attribute path (digits are indexes), looked up as items. */
    static Function<Object, Object> attrGetter(Object attribute, boolean ignoreCase, Object fallback) {
        List<Object> parts = attributeParts(attribute);
        return item -> {
            Object v = item;
            for (Object part : parts) {
                v = Methods.getitem(v, part);
                if (fallback != null && v instanceof Undefined) {
                    v = fallback;
                }
            }
            return ignoreCase ? ignoreCase(v) : v;
        };
    }

    private static List<Object> attributeParts(Object attribute) {
        if (attribute == null || attribute instanceof PyNone) {
            return List.of();
        }
        if (!Py.isString(attribute)) {
            return List.of(attribute);
        }
        List<Object> parts = new ArrayList<>();
        for (String part : Py.text(attribute).split("\\.", -1)) {
            parts.add(!part.isEmpty() && part.chars().allMatch(Character::isDigit) ? (Object) Long.parseLong(part) : part);
        }
        return parts;
    }

    private static Object ignoreCase(Object v) {
        return v instanceof String s ? PyStrings.lower(s) : v;
    }

    private static Object batch(Signature.Bound b, Budget budget) {
        long size = Py.toLong(b.get(1, null), "linecount");
        Object fill = b.get(2, PyNone.NONE);
        List<Object> items = Py.toList(b.get(0, null));
        budget.elements(items.size());
        List<Object> out = new ArrayList<>();
        List<Object> current = new ArrayList<>();
        for (Object item : items) {
            if (current.size() == size) {
                out.add(Collections.unmodifiableList(current));
                current = new ArrayList<>();
            }
            current.add(item);
        }
        if (!current.isEmpty()) {
            if (!(fill instanceof PyNone)) {
                while (current.size() < size) {
                    current.add(fill);
                }
            }
            out.add(Collections.unmodifiableList(current));
        }
        return new PyIterator("generator", out);
    }

    private static Object dictsort(Signature.Bound b, Budget budget) {
        Object value = b.get(0, null);
        boolean caseSensitive = Py.truthy(b.get(1, false));
        Object by = b.get(2, "key");
        int pos;
        if (Py.eq(by, "key")) {
            pos = 0;
        } else if (Py.eq(by, "value")) {
            pos = 1;
        } else {
            throw filterArgument("You can only sort by either \"key\" or \"value\"");
        }
        if (!(value instanceof Map<?, ?>)) {
            throw JinjaException.runtime("AttributeError", "'" + Py.typeName(value) + "' object has no attribute 'items'");
        }
        List<Object> items = new ArrayList<>(Py.toList(new DictView(DictView.Kind.ITEMS, mapOf(value))));
        budget.elements(items.size());
        Comparator<Object> order = (x, y) -> {
            Object kx = ((PyTuple) x).items().get(pos);
            Object ky = ((PyTuple) y).items().get(pos);
            return pythonOrder(caseSensitive ? kx : ignoreCase(kx), caseSensitive ? ky : ignoreCase(ky));
        };
        items.sort(Py.truthy(b.get(3, false)) ? order.reversed() : order);
        return Collections.unmodifiableList(items);
    }

    /** The order Python's {@code sorted} uses: only {@code <}, so incomparable values fail as there. */
    static int pythonOrder(Object a, Object b) {
        if (Py.compare("lt", a, b)) {
            return -1;
        }
        return Py.compare("lt", b, a) ? 1 : 0;
    }

    /** The items of what {@code reversed()} accepts (sequences and dicts); generators are refused. */
    private static List<Object> reversible(Object value) {
        if (value instanceof PyIterator it) {
            throw JinjaException.typeError("'" + it.typeName + "' object is not reversible");
        }
        if (value instanceof Undefined) {
            return List.of();
        }
        if (!Py.isIterable(value)) {
            throw JinjaException.typeError("'" + Py.typeName(value) + "' object is not reversible");
        }
        return Py.toList(value);
    }

    private static Object toFloat(Signature.Bound b) {
        Object value = b.get(0, null);
        Double parsed = parseFloat(value);
        return parsed != null ? parsed : b.get(1, 0.0);
    }

    /** Python's {@code float(value)}, or null where it raises TypeError or ValueError. */
    private static Double parseFloat(Object value) {
        if (value instanceof Undefined u) {
            throw u.error();
        }
        if (Py.isNumber(value)) {
            return Py.toDouble(value);
        }
        if (!Py.isString(value)) {
            return null;
        }
        String s = PyStrings.strip(Py.text(value), null, true, true);
        if (!FLOAT.matcher(s).matches()) {
            return null;
        }
        String lower = s.toLowerCase();
        if (lower.endsWith("inf") || lower.endsWith("infinity")) {
            return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        if (lower.endsWith("nan")) {
            return Double.NaN;
        }
        return Double.parseDouble(s.replace("_", ""));
    }

    private static Object toInt(Signature.Bound b) {
        Object value = b.get(0, null);
        Object fallback = b.get(1, 0L);
        Object base = b.get(2, 10L);
        if (value instanceof Undefined u) {
            throw u.error();
        }
        if (Py.isString(value)) {
            Object parsed = parseInt(Py.text(value), Py.toLong(base, "base"));
            if (parsed != null) {
                return parsed;
            }
        } else if (Py.isInt(value)) {
            return Py.normalize(Py.bigInt(value));
        }
        Double d = parseFloat(value);
        if (d == null) {
            return fallback;
        }
        if (d.isNaN() || d.isInfinite()) {
            throw JinjaException.runtime(d.isNaN() ? "ValueError" : "OverflowError", "cannot convert float "
                    + PyRepr.floatRepr(d) + " to integer");
        }
        return Py.normalize(new BigDecimal(d).toBigInteger());
    }

    /** Python's {@code int(s, base)}, or null where it raises ValueError. */
    private static Object parseInt(String text, long base) {
        String s = PyStrings.strip(text, null, true, true).replace("_", "");
        boolean negative = s.startsWith("-");
        if (negative || s.startsWith("+")) {
            s = s.substring(1);
        }
        String lower = s.toLowerCase();
        int radix = (int) base;
        if ((radix == 16 || radix == 0) && lower.startsWith("0x")) {
            s = s.substring(2);
            radix = 16;
        } else if ((radix == 8 || radix == 0) && lower.startsWith("0o")) {
            s = s.substring(2);
            radix = 8;
        } else if ((radix == 2 || radix == 0) && lower.startsWith("0b")) {
            s = s.substring(2);
            radix = 2;
        } else if (radix == 0) {
            radix = 10;
        }
        if (s.isEmpty() || radix < 2 || radix > 36 || text.contains("__")) {
            return null;
        }
        try {
            BigInteger v = new BigInteger(s, radix);
            return Py.normalize(negative ? v.negate() : v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Object indent(Signature.Bound b, Budget budget) {
        Object s = b.get(0, null);
        Object width = b.get(1, 4L);
        boolean first = Py.truthy(b.get(2, false));
        boolean blank = Py.truthy(b.get(3, false));
        String indention;
        if (Py.isString(width)) {
            indention = Py.text(width);
        } else {
            long n = Math.max(0, Py.toLong(width, "width"));
            budget.chars(n);
            indention = " ".repeat((int) n);
        }
        Object withNewline = Py.add(s, s instanceof Markup ? new Markup("\n") : "\n", budget);
        List<Object> lines = PyStrings.splitlines(Py.text(withNewline), false);
        budget.chars(Py.text(withNewline).length() + (long) lines.size() * indention.length());
        StringBuilder rv = new StringBuilder();
        if (blank) {
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) {
                    rv.append('\n').append(indention);
                }
                rv.append((String) lines.get(i));
            }
        } else {
            rv.append((String) lines.getFirst());
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                rv.append('\n').append(line.isEmpty() ? line : indention + line);
            }
        }
        String out = first ? indention + rv : rv.toString();
        return s instanceof Markup ? new Markup(out) : out;
    }

    private static Object join(Renderer r, Signature.Bound b, Budget budget) {
        Object value = b.get(0, null);
        String separator = PyRepr.str(b.get(1, ""));
        Object attribute = b.get(2, PyNone.NONE);
        List<Object> items = Py.toList(value);
        if (!(attribute instanceof PyNone)) {
            Function<Object, Object> getter = attrGetter(attribute, false, null);
            List<Object> mapped = new ArrayList<>(items.size());
            for (Object item : items) {
                mapped.add(getter.apply(item));
            }
            items = mapped;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            r.budget().step();
            if (i > 0) {
                out.append(separator);
            }
            out.append(PyRepr.str(items.get(i)));
            if (out.length() > budget.maxOutputChars()) {
                budget.chars(out.length());
            }
        }
        budget.chars(out.length());
        return out.toString();
    }

    private static Object map(Renderer r, Object value, List<Object> args, Map<String, Object> kwargs) {
        Function<Object, Object> func;
        if (args.isEmpty() && kwargs.containsKey("attribute")) {
            Map<String, Object> rest = new java.util.LinkedHashMap<>(kwargs);
            Object attribute = rest.remove("attribute");
            Object fallback = rest.remove("default");
            if (!rest.isEmpty()) {
                throw filterArgument("Unexpected keyword argument '" + rest.keySet().iterator().next() + "'");
            }
            func = attrGetter(attribute, false, fallback instanceof PyNone ? null : fallback);
        } else {
            if (args.isEmpty()) {
                throw filterArgument("map requires a filter argument");
            }
            String filter = PyRepr.str(args.getFirst());
            List<Object> rest = args.subList(1, args.size());
            func = item -> apply(r, filter, item, rest, kwargs);
        }
        return lazy(r, value, items -> {
            List<Object> out = new ArrayList<>(items.size());
            for (Object item : items) {
                r.budget().step();
                out.add(func.apply(item));
            }
            return out;
        });
    }

    /** jinja2's generator filters run when consumed; an empty or false input yields nothing at all. */
    private static PyIterator lazy(Renderer r, Object value, Function<List<Object>, List<Object>> body) {
        if (!Py.truthy(value)) {
            return new PyIterator("generator", List.of());
        }
        List<Object> items = Py.toList(value);
        r.budget().elements(items.size());
        return new PyIterator("generator", () -> body.apply(items));
    }

    private static Object selectOrReject(Renderer r, Object value, List<Object> args, Map<String, Object> kwargs,
            boolean select, boolean lookupAttribute) {
        Function<Object, Object> transform = Function.identity();
        int offset = 0;
        if (lookupAttribute) {
            if (args.isEmpty()) {
                throw filterArgument("Missing parameter for attribute name");
            }
            transform = attrGetter(args.getFirst(), false, null);
            offset = 1;
        }
        Function<Object, Object> fetch = transform;
        Function<Object, Boolean> test;
        if (args.size() > offset) {
            String name = PyRepr.str(args.get(offset));
            List<Object> rest = args.subList(offset + 1, args.size());
            test = item -> Tests.apply(r.budget(), name, item, rest, kwargs);
        } else {
            test = Py::truthy;
        }
        return lazy(r, value, items -> {
            List<Object> out = new ArrayList<>();
            for (Object item : items) {
                r.budget().step();
                if (test.apply(fetch.apply(item)) == select) {
                    out.add(item);
                }
            }
            return out;
        });
    }

    private static Object minMax(String name, Signature.Bound b) {
        List<Object> items = Py.toList(b.get(0, null));
        if (items.isEmpty()) {
            return Undefined.hinted("No aggregated item, sequence was empty.");
        }
        Function<Object, Object> key = attrGetter(b.get(2, PyNone.NONE), !Py.truthy(b.get(1, false)), null);
        Object best = items.getFirst();
        Object bestKey = key.apply(best);
        for (Object item : items.subList(1, items.size())) {
            Object k = key.apply(item);
            if (name.equals("max") ? Py.compare("gt", k, bestKey) : Py.compare("lt", k, bestKey)) {
                best = item;
                bestKey = k;
            }
        }
        return best;
    }

    private static Object reverse(Object value) {
        if (value instanceof String s) {
            return PyStrings.slice(s, null, null, -1L);
        }
        if (value instanceof Markup m) {
            return new Markup(PyStrings.slice(m.text(), null, null, -1L));
        }
        if (!Py.isIterable(value)) {
            throw filterArgument("argument must be iterable");
        }
        List<Object> items = new ArrayList<>(Py.toList(value));
        Collections.reverse(items);
        return value instanceof PyIterator ? Collections.unmodifiableList(items) : new PyIterator("reversed", items);
    }

    private static Object round(Signature.Bound b) {
        Object value = b.get(0, null);
        long precision = Py.toLong(b.get(1, 0L), "precision");
        Object method = b.get(2, "common");
        if (!Py.eq(method, "common") && !Py.eq(method, "ceil") && !Py.eq(method, "floor")) {
            throw filterArgument("method must be common, ceil or floor");
        }
        if (value instanceof Undefined u) {
            throw u.error();
        }
        if (!Py.isNumber(value)) {
            throw JinjaException.typeError("type " + Py.typeName(value) + " doesn't define __round__ method");
        }
        if (Py.eq(method, "common")) {
            if (Py.isInt(value)) {
                if (precision >= 0) {
                    return Py.normalize(Py.bigInt(value));
                }
                return Py.normalize(new BigDecimal(Py.bigInt(value)).setScale((int) precision, RoundingMode.HALF_EVEN)
                        .toBigInteger());
            }
            double d = (Double) value;
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return d;
            }
            double rounded = new BigDecimal(d).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
            return rounded == 0 ? Math.copySign(0.0, d) : rounded; // Python keeps the sign: round(-0.4) is -0.0
        }
        double scale = Math.pow(10, precision);
        double scaled = Py.toDouble(value) * scale;
        return (Py.eq(method, "ceil") ? Math.ceil(scaled) : Math.floor(scaled)) / scale;
    }

    private static Object slice(Signature.Bound b) {
        List<Object> seq = Py.toList(b.get(0, null));
        long slices = Py.toLong(b.get(1, null), "slices");
        Object fill = b.get(2, PyNone.NONE);
        if (slices <= 0) {
            throw JinjaException.runtime("ZeroDivisionError", "integer division or modulo by zero");
        }
        int length = seq.size();
        long perSlice = length / slices;
        long withExtra = length % slices;
        long offset = 0;
        List<Object> out = new ArrayList<>();
        for (long n = 0; n < Math.min(slices, Globals.MAX_RANGE); n++) {
            long start = offset + n * perSlice;
            if (n < withExtra) {
                offset++;
            }
            long end = offset + (n + 1) * perSlice;
            List<Object> part = new ArrayList<>(seq.subList((int) Math.min(start, length), (int) Math.min(end, length)));
            if (!(fill instanceof PyNone) && n >= withExtra) {
                part.add(fill);
            }
            out.add(Collections.unmodifiableList(part));
        }
        return new PyIterator("generator", out);
    }

    private static Object sort(Signature.Bound b, Budget budget) {
        List<Object> items = new ArrayList<>(Py.toList(b.get(0, null)));
        budget.elements(items.size());
        boolean reverse = Py.truthy(b.get(1, false));
        boolean caseSensitive = Py.truthy(b.get(2, false));
        Object attribute = b.get(3, PyNone.NONE);
        List<Function<Object, Object>> keys = new ArrayList<>();
        if (Py.isString(attribute)) {
            for (String part : Py.text(attribute).split(",", -1)) {
                keys.add(attrGetter(part, !caseSensitive, null));
            }
        } else {
            keys.add(attrGetter(attribute, !caseSensitive, null));
        }
        Comparator<Object> order = (x, y) -> {
            List<Object> kx = new ArrayList<>();
            List<Object> ky = new ArrayList<>();
            keys.forEach(k -> {
                kx.add(k.apply(x));
                ky.add(k.apply(y));
            });
            return pythonOrder(kx, ky);
        };
        items.sort(reverse ? order.reversed() : order);
        return Collections.unmodifiableList(items);
    }

    private static Object sum(Signature.Bound b, Budget budget) {
        List<Object> items = Py.toList(b.get(0, null));
        Object attribute = b.get(1, PyNone.NONE);
        Object total = b.get(2, 0L);
        if (Py.isString(total)) {
            throw JinjaException.typeError("sum() can't sum strings [use ''.join(seq) instead]");
        }
        Function<Object, Object> getter = attrGetter(attribute, false, null);
        for (Object item : items) {
            total = Py.add(total, getter.apply(item), budget);
        }
        return total;
    }

    private static Object truncate(Signature.Bound b) {
        Object value = b.get(0, null);
        long length = Py.toLong(b.get(1, 255L), "length");
        boolean killwords = Py.truthy(b.get(2, false));
        String end = PyRepr.str(b.get(3, "..."));
        Object leewayArg = b.get(4, PyNone.NONE);
        long leeway = leewayArg instanceof PyNone ? 5 : Py.toLong(leewayArg, "leeway");
        if (length < PyStrings.length(end)) {
            throw JinjaException.runtime("AssertionError", "expected length >= " + PyStrings.length(end) + ", got "
                    + length);
        }
        if (leeway < 0) {
            throw JinjaException.runtime("AssertionError", "expected leeway >= 0, got " + leeway);
        }
        if (!Py.isString(value)) {
            throw JinjaException.typeError("object of type '" + Py.typeName(value) + "' has no len()");
        }
        String s = Py.text(value);
        if (PyStrings.length(s) <= length + leeway) {
            return value;
        }
        String head = PyStrings.slice(s, null, length - PyStrings.length(end), null);
        if (killwords) {
            return head + end;
        }
        return PyStrings.rsplit(head, " ", 1).getFirst() + end;
    }

    private static Object unique(Signature.Bound b) {
        List<Object> items = Py.toList(b.get(0, null));
        Function<Object, Object> key = attrGetter(b.get(2, PyNone.NONE), !Py.truthy(b.get(1, false)), null);
        List<Object> seen = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        for (Object item : items) {
            Object k = key.apply(item);
            DictKeys.requireHashable(k);
            if (seen.stream().noneMatch(s -> Py.eq(s, k))) {
                seen.add(k);
                out.add(item);
            }
        }
        return new PyIterator("generator", out);
    }
}
