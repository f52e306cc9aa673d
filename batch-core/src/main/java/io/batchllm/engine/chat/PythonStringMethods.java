package io.batchllm.engine.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Python {@code str} methods on Java strings: {@code strip}, {@code lstrip}, {@code rstrip},
 * {@code split}, {@code startswith}, {@code endswith}, {@code upper}, {@code lower}, {@code title},
 * {@code capitalize}, {@code replace}.
 *
 * <p>Jinjava resolves {@code s.name(args)} by calling the Java method of that name, so Python-only
 * names fail ("Cannot find method startswith") and same-named ones behave differently: Java's
 * {@code split} takes a regex and drops trailing empty strings, Java's {@code strip} takes no
 * characters. This resolver sits in front of Jinjava's own and answers those names for strings
 * with Python's semantics; every other call falls through to Jinjava. Wrong arguments raise an
 * {@link ELException}, which Jinjava reports as a fatal template error (an
 * {@code IllegalArgumentException} would be swallowed and yield an empty value).
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name)) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = switch (name) {
            case "strip" -> strip(s, chars(name, args), true, true);
            case "lstrip" -> strip(s, chars(name, args), true, false);
            case "rstrip" -> strip(s, chars(name, args), false, true);
            case "split" -> split(s, args);
            case "startswith" -> affixMatches(s, name, args, true);
            case "endswith" -> affixMatches(s, name, args, false);
            case "upper" -> noArgs(name, args, s.toUpperCase(Locale.ROOT));
            case "lower" -> noArgs(name, args, s.toLowerCase(Locale.ROOT));
            case "title" -> noArgs(name, args, title(s));
            case "capitalize" -> noArgs(name, args, capitalize(s));
            case "replace" -> replace(s, args);
            default -> null;
        };
        if (result != null) {
            context.setPropertyResolved(true);
        }
        return result;
    }

    private static Object noArgs(String name, Object[] args, Object result) {
        if (args.length != 0) {
            throw arity(name, "no arguments", args.length);
        }
        return result;
    }

    /** The optional characters argument of strip/lstrip/rstrip; null means whitespace. */
    private static String chars(String name, Object[] args) {
        if (args.length > 1) {
            throw arity(name, "at most 1 argument", args.length);
        }
        return args.length == 0 || args[0] == null ? null : args[0].toString();
    }

    static String strip(String s, String chars, boolean leading, boolean trailing) {
        int start = 0;
        int end = s.length();
        while (leading && start < end && isStripped(s.charAt(start), chars)) {
            start++;
        }
        while (trailing && end > start && isStripped(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isStripped(char c, String chars) {
        // Python's str.isspace() also counts non-breaking and other Unicode spaces, which
        // Character.isWhitespace alone does not.
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    /** Python {@code str.split(sep=None, maxsplit=-1)}: a literal separator, or runs of whitespace. */
    static List<String> split(String s, Object[] args) {
        if (args.length > 2) {
            throw arity("split", "at most 2 arguments", args.length);
        }
        String sep = args.length == 0 || args[0] == null ? null : args[0].toString();
        int maxSplit = args.length == 2 ? toInt("split", args[1]) : -1;
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            splitOnWhitespace(s, maxSplit, parts);
            return parts;
        }
        if (sep.isEmpty()) {
            throw new ELException("str.split(): empty separator");
        }
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static void splitOnWhitespace(String s, int maxSplit, List<String> parts) {
        int i = 0;
        int n = s.length();
        while (true) {
            while (i < n && isStripped(s.charAt(i), null)) {
                i++;
            }
            if (i == n) {
                return;
            }
            if (maxSplit >= 0 && parts.size() == maxSplit) {
                // Python keeps the remainder as is, trailing whitespace included.
                parts.add(s.substring(i));
                return;
            }
            int start = i;
            while (i < n && !isStripped(s.charAt(i), null)) {
                i++;
            }
            parts.add(s.substring(start, i));
        }
    }

    /** Python startswith/endswith: the affix may be a string or a tuple/list of strings. */
    private static Boolean affixMatches(String s, String name, Object[] args, boolean prefix) {
        if (args.length != 1) {
            throw arity(name, "exactly 1 argument (start/end positions are not supported)", args.length);
        }
        List<String> affixes = new ArrayList<>();
        if (args[0] instanceof Collection<?> several) {
            several.forEach(a -> affixes.add(String.valueOf(a)));
        } else {
            affixes.add(String.valueOf(args[0]));
        }
        return affixes.stream().anyMatch(a -> prefix ? s.startsWith(a) : s.endsWith(a));
    }

    /** Python title(): a cased letter after an uncased character starts a word. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean cased = Character.isLetter(c);
            out.append(cased ? (previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c)) : c);
            previousCased = cased;
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toTitleCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String replace(String s, Object[] args) {
        if (args.length < 2 || args.length > 3) {
            throw arity("replace", "2 or 3 arguments", args.length);
        }
        String old = String.valueOf(args[0]);
        String replacement = String.valueOf(args[1]);
        int count = args.length == 3 ? toInt("replace", args[2]) : -1;
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        int at;
        for (int done = 0; done < count && !old.isEmpty() && (at = s.indexOf(old, from)) >= 0; done++) {
            out.append(s, from, at).append(replacement);
            from = at + old.length();
        }
        return out.append(s.substring(from)).toString();
    }

    private static int toInt(String name, Object value) {
        if (value instanceof Number n) {
            return n.intValue();
        }
        throw new ELException("str." + name + "(): expected an integer count, got " + value);
    }

    private static ELException arity(String name, String expected, int given) {
        return new ELException("str." + name + "() takes " + expected + " (" + given + " given)");
    }

    // Not a property resolver: every lookup other than invoke() is left to Jinjava's resolvers.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Read-only: leaves the property unresolved so the next resolver decides.
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
