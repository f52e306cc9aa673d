package io.batchllm.engine.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Python's {@code str} methods, as templates call them ({@code message.content.strip()}). */
final class StrMethods {
    private StrMethods() {
    }

    static Object call(Renderer renderer, String s, String name, List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args("str." + name, args, kwargs);
        Budget budget = renderer.budget();
        return switch (name) {
            case "strip", "lstrip", "rstrip" -> {
                a.noKeywords();
                a.count(0, 1);
                yield PyStrings.strip(s, a.optionalString(0, null), !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "split", "rsplit" -> {
                a.count(0, 2);
                String sep = a.optionalString(0, "sep");
                long max = a.integer(1, "maxsplit", -1);
                yield name.equals("split") ? PyStrings.split(s, sep, max) : PyStrings.rsplit(s, sep, max);
            }
            case "splitlines" -> {
                a.count(0, 1);
                yield PyStrings.splitlines(s, Py.truthy(a.get(0, "keepends", false)));
            }
            case "startswith", "endswith" -> {
                a.noKeywords();
                a.count(1, 3);
                String target = PyStrings.slice(s, optionalIndex(a.get(1, null, PyNone.NONE)),
                        optionalIndex(a.get(2, null, PyNone.NONE)), null);
                yield affixes(args.getFirst(), name).stream()
                        .anyMatch(x -> name.equals("startswith") ? target.startsWith(x) : target.endsWith(x));
            }
            case "upper" -> noArgs(a, PyStrings.upper(s));
            case "lower" -> noArgs(a, PyStrings.lower(s));
            case "casefold" -> noArgs(a, PyStrings.lower(s));
            case "title" -> noArgs(a, PyStrings.title(s));
            case "capitalize" -> noArgs(a, PyStrings.capitalize(s));
            case "swapcase" -> noArgs(a, PyStrings.swapcase(s));
            case "isupper" -> noArgs(a, PyStrings.isUpper(s));
            case "islower" -> noArgs(a, PyStrings.isLower(s));
            case "isspace" -> noArgs(a, !s.isEmpty() && PyStrings.isAllSpace(s, 0, s.length()));
            case "isdigit", "isdecimal", "isnumeric" -> noArgs(a, !s.isEmpty() && s.codePoints().allMatch(Character::isDigit));
            case "isalpha" -> noArgs(a, !s.isEmpty() && s.codePoints().allMatch(Character::isLetter));
            case "isalnum" -> noArgs(a, !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit));
            case "isascii" -> noArgs(a, s.chars().allMatch(c -> c < 0x80));
            case "istitle" -> noArgs(a, !s.isEmpty() && PyStrings.title(s).equals(s) && !PyStrings.lower(s).equals(s));
            case "replace" -> {
                a.noKeywords();
                a.count(2, 3);
                String old = a.string(0, null);
                String replacement = a.string(1, null);
                long count = a.integer(2, null, -1);
                long occurrences = PyStrings.count(s, old);
                if (count >= 0) {
                    occurrences = Math.min(occurrences, count);
                }
                budget.chars(s.length() + occurrences * (replacement.length() - (long) old.length()));
                yield PyStrings.replace(s, old, replacement, count);
            }
            case "find", "rfind", "index", "rindex" -> {
                a.noKeywords();
                a.count(1, 1);
                long at = PyStrings.find(s, a.string(0, null), name.startsWith("r"));
                if (at < 0 && name.endsWith("index")) {
                    throw JinjaException.runtime("ValueError", "substring not found");
                }
                yield at;
            }
            case "count" -> {
                a.noKeywords();
                a.count(1, 1);
                yield PyStrings.count(s, a.string(0, null));
            }
            case "join" -> {
                a.noKeywords();
                a.count(1, 1);
                yield join(s, args.getFirst(), budget);
            }
            case "center", "ljust", "rjust" -> {
                a.noKeywords();
                a.count(1, 2);
                long width = a.integer(0, null, 0);
                String fill = args.size() > 1 ? a.string(1, null) : " ";
                if (PyStrings.length(fill) != 1) {
                    throw JinjaException.typeError("The fill character must be exactly one character long");
                }
                budget.chars(Math.max(width, s.length()));
                yield switch (name) {
                    case "center" -> PyStrings.center(s, width, fill);
                    case "ljust" -> PyStrings.ljust(s, width, fill);
                    default -> PyStrings.rjust(s, width, fill);
                };
            }
            case "zfill" -> {
                a.noKeywords();
                a.count(1, 1);
                long width = a.integer(0, null, 0);
                budget.chars(Math.max(width, s.length()));
                yield PyStrings.zfill(s, width);
            }
            case "partition", "rpartition" -> {
                a.noKeywords();
                a.count(1, 1);
                String sep = a.string(0, null);
                if (sep.isEmpty()) {
                    throw JinjaException.runtime("ValueError", "empty separator");
                }
                int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) {
                    yield name.equals("partition") ? new PyTuple(List.of(s, "", "")) : new PyTuple(List.of("", "", s));
                }
                yield new PyTuple(List.of(s.substring(0, at), sep, s.substring(at + sep.length())));
            }
            case "removeprefix" -> {
                a.noKeywords();
                a.count(1, 1);
                String prefix = a.string(0, null);
                yield s.startsWith(prefix) ? s.substring(prefix.length()) : s;
            }
            case "removesuffix" -> {
                a.noKeywords();
                a.count(1, 1);
                String suffix = a.string(0, null);
                yield !suffix.isEmpty() && s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
            }
            case "format" -> PyFormat.format(renderer, s, args, kwargs);
            default -> throw JinjaException.runtime("AttributeError", "'str' object has no attribute '" + name + "'");
        };
    }

    private static Object noArgs(Args a, Object result) {
        a.none();
        return result;
    }

    private static Long optionalIndex(Object v) {
        return v instanceof PyNone ? null : Py.toLong(v, "slice index");
    }

    private static List<String> affixes(Object arg, String method) {
        List<String> out = new ArrayList<>();
        if (arg instanceof PyTuple t) {
            for (Object x : t.items()) {
                if (!Py.isString(x)) {
                    throw JinjaException.typeError("tuple for " + method + " must only contain str, not " + Py.typeName(x));
                }
                out.add(Py.text(x));
            }
        } else if (Py.isString(arg)) {
            out.add(Py.text(arg));
        } else {
            throw JinjaException.typeError(method + " first arg must be str or a tuple of str, not " + Py.typeName(arg));
        }
        return out;
    }

    /** Python's {@code sep.join(iterable)}: every item must be a string. */
    static String join(String sep, Object iterable, Budget budget) {
        List<Object> items = Py.toList(iterable);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            if (!Py.isString(item)) {
                throw JinjaException.typeError("sequence item " + i + ": expected str instance, " + Py.typeName(item)
                        + " found");
            }
            if (i > 0) {
                out.append(sep);
            }
            out.append(Py.text(item));
            if (out.length() > budget.maxOutputChars()) {
                budget.chars(out.length());
            }
        }
        budget.chars(out.length());
        return out.toString();
    }
}
