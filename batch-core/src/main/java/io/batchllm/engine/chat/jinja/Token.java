package io.batchllm.engine.chat.jinja;

/**
 * One token of a template, as Jinja2's lexer produces it.
 *
 * @param kind what the token is
 * @param text the template data (for {@link Kind#DATA}), the name, the operator, or the literal as
 *     written; for {@link Kind#STRING} the unescaped value
 * @param value the parsed value of an {@link Kind#INTEGER} or {@link Kind#FLOAT} literal, else null
 * @param line the 1-based template line the token starts on
 */
record Token(Kind kind, String text, Object value, int line) {

    /** Token kinds; operators are one kind, told apart by {@link #text}. */
    enum Kind {
        DATA, VARIABLE_BEGIN, VARIABLE_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF
    }

    boolean isName(String name) {
        return kind == Kind.NAME && text.equals(name);
    }

    boolean isOperator(String operator) {
        return kind == Kind.OPERATOR && text.equals(operator);
    }

    /** Jinja2's {@code describe_token}: how an error message names this token. */
    String describe() {
        return switch (kind) {
            case NAME, OPERATOR -> text;
            case DATA -> "template data / text";
            case VARIABLE_BEGIN -> "begin of print statement";
            case VARIABLE_END -> "end of print statement";
            case BLOCK_BEGIN -> "begin of statement block";
            case BLOCK_END -> "end of statement block";
            case STRING -> "string";
            case INTEGER -> "integer";
            case FLOAT -> "float";
            case EOF -> "end of template";
        };
    }
}
