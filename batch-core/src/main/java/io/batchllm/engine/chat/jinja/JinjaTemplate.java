package io.batchllm.engine.chat.jinja;

import io.batchllm.engine.chat.jinja.Node.Stmt;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Jinja template parsed and rendered with the semantics of Python's jinja2 3.1 as Hugging Face
 * {@code transformers} configures it for chat templates: an {@code ImmutableSandboxedEnvironment}
 * with {@code trim_blocks}, {@code lstrip_blocks}, the {@code loopcontrols} extension, HF's
 * {@code tojson} (no HTML escaping), {@code raise_exception} and {@code strftime_now}.
 *
 * <p>It is an interpreter of its own rather than a general Jinja engine: it knows the statements
 * ({@code if for set macro call filter with break continue raw}, HF's {@code generation}),
 * expressions, filters and tests jinja2 has, and Python's semantics for the values they work on
 * (printing, truth, equality, string methods, integer and float arithmetic). What it leaves out
 * is refused with a message: templates that include or import other templates, extend one or
 * change autoescaping, recursive loops, and a few filters no chat template uses.
 *
 * <p>Safe for untrusted templates and data: variables are only data (their text is never parsed),
 * nothing outside the variables can be reached (no file, class or resource), and every render is
 * bounded by its {@link Limits}.
 *
 * <p>Immutable and thread safe; each render has its own state.
 */
public final class JinjaTemplate {
    /** Deepest nesting of lists and dicts accepted in the variables. */
    public static final int MAX_VARIABLE_NESTING = 256;

    private final List<Stmt> body;

    private JinjaTemplate(List<Stmt> body) {
        this.body = body;
    }

    /**
     * Parses a template.
     *
     * @throws JinjaException ({@link JinjaException.Kind#SYNTAX}) with jinja2's message and the line
     */
    public static JinjaTemplate parse(String source) {
        Objects.requireNonNull(source, "source");
        try {
            return new JinjaTemplate(Parser.parse(source));
        } catch (StackOverflowError e) {
            throw JinjaException.syntax("the template nests too deeply to parse", 0);
        }
    }

    /**
     * Renders the template.
     *
     * @param variables the template's variables: strings, booleans, numbers, null (None), and lists
     *     and maps (with string keys) of those
     * @param clock the clock {@code strftime_now} reads, in its time zone
     * @param limits the bounds of this render
     * @return the rendered text
     * @throws JinjaException {@link JinjaException.Kind#RAISED} when the template called
     *     {@code raise_exception}, {@link JinjaException.Kind#RUNTIME} when an operation failed,
     *     {@link JinjaException.Kind#LIMIT} when the render went past a limit
     * @throws IllegalArgumentException when a variable holds something other than the values above
     */
    public String render(Map<String, ?> variables, Clock clock, Limits limits) {
        Objects.requireNonNull(variables, "variables");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(limits, "limits");
        Map<String, Object> converted = new LinkedHashMap<>();
        variables.forEach((name, value) -> converted.put(name, fromJava(value, 0)));
        try {
            return new Renderer(converted, clock, limits).render(body);
        } catch (StackOverflowError e) {
            throw JinjaException.limit("rendering nested too deeply for the thread's stack");
        }
    }

    /** A Java value as the template sees it. */
    private static Object fromJava(Object v, int depth) {
        if (depth > MAX_VARIABLE_NESTING) {
            throw new IllegalArgumentException("template variables nest deeper than " + MAX_VARIABLE_NESTING + " levels");
        }
        return switch (v) {
            case null -> PyNone.NONE;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case BigInteger b -> Py.normalize(b);
            case Double d -> d;
            case Float f -> (double) f;
            case BigDecimal d -> d.doubleValue();
            case List<?> list -> {
                List<Object> out = new ArrayList<>(list.size());
                for (Object item : list) {
                    out.add(fromJava(item, depth + 1));
                }
                yield Collections.unmodifiableList(out);
            }
            case Map<?, ?> map -> {
                Map<Object, Object> out = new LinkedHashMap<>();
                map.forEach((k, value) -> {
                    if (!(k instanceof String key)) {
                        throw new IllegalArgumentException("template variables may only have string keys, got "
                                + (k == null ? "null" : k.getClass().getSimpleName()));
                    }
                    out.put(key, fromJava(value, depth + 1));
                });
                yield Collections.unmodifiableMap(out);
            }
            default -> throw new IllegalArgumentException("a template variable cannot hold a "
                    + v.getClass().getName() + "; use strings, booleans, numbers, null, lists and maps");
        };
    }
}
