package io.batchllm.engine.openai;

import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.sampling.SamplingParams;
import java.util.Objects;

/**
 * One parsed and validated generation request, as {@link RequestParser} builds it from a batch line's
 * body. Immutable.
 *
 * @param endpoint which endpoint the body was sent to (decides the response shape)
 * @param model the {@code model} field, echoed in the response
 * @param prompt a {@link Prompt.Chat} for chat, a {@link Prompt.Text} or {@link Prompt.Tokens} for completions
 * @param sampling the sampling settings, defaults filled in
 * @param constraint the grammar the output must follow (structured outputs), or null for free text
 * @param tools the functions the model may or must call (chat only), or null for none
 */
public record GenerationRequest(Endpoint endpoint, String model, Prompt prompt, SamplingParams sampling,
                                Grammar constraint, ToolRequest tools) {

    /** A request without an output constraint or tools. */
    public GenerationRequest(Endpoint endpoint, String model, Prompt prompt, SamplingParams sampling) {
        this(endpoint, model, prompt, sampling, null, null);
    }

    public GenerationRequest {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampling, "sampling");
        if (tools != null && constraint != null) {
            throw new IllegalArgumentException("a request has either an output constraint or tools, not both");
        }
        if ((endpoint == Endpoint.CHAT_COMPLETIONS) != (prompt instanceof Prompt.Chat)) {
            throw new IllegalArgumentException(endpoint + " does not take a " + prompt.getClass().getSimpleName() + " prompt");
        }
    }

    /**
     * Checks the token ids the request names against the model's vocabulary; the parser cannot,
     * since it does not know the model.
     *
     * @param vocabSize the model's vocabulary size
     * @throws RequestException naming {@code logit_bias}, {@code stop_token_ids} or {@code prompt} for an
     *     id >= vocabSize
     */
    public void checkVocabulary(int vocabSize) {
        for (int token : sampling.logitBias().keySet()) {
            if (token >= vocabSize) {
                throw new RequestException("logit_bias", "invalid_value", "logit_bias names token " + token
                        + " but the model's token ids are 0 to " + (vocabSize - 1));
            }
        }
        for (int token : sampling.stopTokenIds()) {
            if (token >= vocabSize) {
                throw new RequestException("stop_token_ids", "invalid_value", "stop_token_ids names token " + token
                        + " but the model's token ids are 0 to " + (vocabSize - 1));
            }
        }
        if (prompt instanceof Prompt.Tokens tokens) {
            int[] ids = tokens.ids();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] >= vocabSize) {
                    throw new RequestException("prompt", "invalid_value", "prompt[" + i + "] is token " + ids[i]
                            + " but the model's token ids are 0 to " + (vocabSize - 1));
                }
            }
        }
    }
}
