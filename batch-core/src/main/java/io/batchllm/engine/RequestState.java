package io.batchllm.engine;

import io.batchllm.engine.openai.ChoiceOutput;
import io.batchllm.engine.openai.GenerationRequest;
import io.batchllm.engine.openai.ResponseBuilder;
import io.batchllm.spi.InferenceResult;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * One request in the engine: its prompt, the outputs of its finished choices, and the future that
 * completes when the last choice finishes (or when the request fails). Used by the engine thread only,
 * apart from the future.
 */
final class RequestState {
    private final GenerationRequest request;
    private final int[] promptTokens;
    private final ResponseBuilder responses;
    private final CompletableFuture<InferenceResult> future;
    private final ChoiceOutput[] outputs;
    private int unfinished;
    /** Prompt tokens served from shared KV blocks: the least any choice found, -1 before the first. */
    private int cachedPromptTokens = -1;

    RequestState(GenerationRequest request, int[] promptTokens, ResponseBuilder responses,
            CompletableFuture<InferenceResult> future) {
        this.request = request;
        this.promptTokens = promptTokens;
        this.responses = responses;
        this.future = future;
        this.outputs = new ChoiceOutput[request.sampling().n()];
        this.unfinished = outputs.length;
    }

    GenerationRequest request() {
        return request;
    }

    /** The prompt's token ids; shared by every choice, never modified. */
    int[] promptTokens() {
        return promptTokens;
    }

    /** True once the future is complete: every choice finished, or the request failed. */
    boolean isDone() {
        return future.isDone();
    }

    /**
     * Records how many prompt tokens a choice found computed in shared KV blocks. The response reports
     * the least over the choices: the part of the prompt that this request never computed.
     */
    void promptCached(int tokens) {
        cachedPromptTokens = cachedPromptTokens < 0 ? tokens : Math.min(cachedPromptTokens, tokens);
    }

    /** Records choice {@code index}'s output; the last one completes the future with the response. */
    void choiceFinished(int index, ChoiceOutput output) {
        if (outputs[index] != null) {
            throw new IllegalStateException("choice " + index + " finished twice");
        }
        outputs[index] = output;
        if (--unfinished == 0) {
            future.complete(responses.build(request, promptTokens.length, Math.max(0, cachedPromptTokens),
                    Arrays.asList(outputs)));
        }
    }

    /** Ends the request with {@code result} (an error), whatever its choices are doing. */
    void fail(InferenceResult result) {
        future.complete(result);
    }

    /** Ends the request exceptionally: the backend itself stopped. */
    void abandon(Throwable cause) {
        future.completeExceptionally(cause);
    }
}
