package io.batchllm.engine.grammar;

/**
 * A constraint that cannot be compiled into a grammar: an unsupported JSON Schema keyword or regex
 * construct, a malformed schema, or one too large. The message names the keyword or construct and,
 * for schemas, where it is (a JSON pointer into the schema), so that the request's 400 says what to
 * change.
 */
public final class GrammarException extends RuntimeException {
    /**
     * @param message what is wrong and what is supported instead
     */
    public GrammarException(String message) {
        super(message);
    }
}
