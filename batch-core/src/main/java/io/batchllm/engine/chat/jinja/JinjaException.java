package io.batchllm.engine.chat.jinja;

import java.io.Serial;
import java.util.Objects;

/**
 * A template that does not compile, or a render that failed. Unchecked.
 *
 * <p>{@link #getMessage()} is the message Python's jinja2 gives for the same failure (for
 * {@link Kind#RAISED}, the template's own text), followed by the template line where known;
 * {@link #detail()} is that message alone.
 */
public final class JinjaException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** What failed. */
    public enum Kind {
        /** The template source does not parse, or uses something this interpreter refuses. */
        SYNTAX,
        /** The template called {@code raise_exception(message)}. */
        RAISED,
        /** An operation failed while rendering (an undefined value used, a type error, ...). */
        RUNTIME,
        /** Rendering went past one of the {@link Limits}. */
        LIMIT
    }

    private final Kind kind;
    private final String pythonType;
    private final String detail;
    private final int line;

    JinjaException(Kind kind, String pythonType, String detail, int line) {
        super(detail + (line > 0 ? " (template line " + line + ")" : ""), null, false, false);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.pythonType = pythonType;
        this.detail = detail;
        this.line = line;
    }

    /** @return what failed */
    public Kind kind() {
        return kind;
    }

    /**
     * @return the name of the exception class jinja2 raises for the same failure
     *     ({@code TemplateSyntaxError}, {@code TemplateError}, {@code UndefinedError},
     *     {@code TypeError}, ...)
     */
    public String pythonType() {
        return pythonType;
    }

    /** @return the message without the line */
    public String detail() {
        return detail;
    }

    /** @return the 1-based template line, or 0 when unknown */
    public int line() {
        return line;
    }

    /** The same failure, located at {@code line} if it has no line yet. */
    JinjaException at(int newLine) {
        return line > 0 || newLine <= 0 ? this : new JinjaException(kind, pythonType, detail, newLine);
    }

    static JinjaException syntax(String detail, int line) {
        return new JinjaException(Kind.SYNTAX, "TemplateSyntaxError", detail, line);
    }

    static JinjaException runtime(String pythonType, String detail) {
        return new JinjaException(Kind.RUNTIME, pythonType, detail, 0);
    }

    static JinjaException typeError(String detail) {
        return runtime("TypeError", detail);
    }

    static JinjaException limit(String detail) {
        return new JinjaException(Kind.LIMIT, "LimitExceeded", detail, 0);
    }
}
