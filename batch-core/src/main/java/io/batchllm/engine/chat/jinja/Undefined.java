package io.batchllm.engine.chat.jinja;

/**
 * jinja2's default {@code Undefined}: what a missing variable, key or attribute evaluates to. It
 * prints as nothing, is false, iterates as empty and has length 0; anything else done with it
 * (arithmetic, comparison, attribute access, calling it) fails with jinja2's message, such as
 * {@code 'x' is undefined} or {@code 'dict object' has no attribute 'tool_calls'}.
 */
final class Undefined {
    private static final Object NO_OBJECT = new Object();

    private final String hint;
    private final Object object;
    private final Object name;
    private final String errorType;

    private Undefined(String hint, Object object, Object name, String errorType) {
        this.hint = hint;
        this.object = object;
        this.name = name;
        this.errorType = errorType;
    }

    /** A variable that does not exist. */
    static Undefined variable(String name) {
        return new Undefined(null, NO_OBJECT, name, "UndefinedError");
    }

    /** An attribute or item {@code name} that {@code object} does not have. */
    static Undefined member(Object object, Object name) {
        return new Undefined(null, object, name, "UndefinedError");
    }

    /** An undefined value with its own explanation, e.g. "there is no previous item". */
    static Undefined hinted(String hint) {
        return new Undefined(hint, NO_OBJECT, null, "UndefinedError");
    }

    /** An attribute the sandbox refuses (a mutating method, a private name): any use is a SecurityError. */
    static Undefined unsafe(Object object, String attribute) {
        return new Undefined("access to attribute '" + attribute + "' of '" + Py.typeName(object)
                + "' object is unsafe.", object, attribute, "SecurityError");
    }

    /** jinja2's {@code _undefined_message}. */
    String message() {
        if (hint != null) {
            return hint;
        }
        if (object == NO_OBJECT) {
            return PyRepr.repr(name) + " is undefined";
        }
        if (!(name instanceof String)) {
            return Py.objectTypeRepr(object) + " has no element " + PyRepr.repr(name);
        }
        return PyRepr.repr(Py.objectTypeRepr(object)) + " has no attribute " + PyRepr.repr(name);
    }

    /** The error any real use of this value raises. */
    JinjaException error() {
        return JinjaException.runtime(errorType, message());
    }
}
