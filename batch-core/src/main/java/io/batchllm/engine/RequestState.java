package io.batchllm.engine;

import io.batchllm.engine.grammar.Grammar;
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
    /** The grammar every choice follows (the request's, or forced tool calls), or null. */
    private final Grammar constraint;
    /** The request's tool calling, or null without tools. */
    private final ToolCalling tools;
    private final long seed;
    private final ResponseBuilder responses;
    private final CompletableFuture<InferenceResult> future;
    private final ChoiceOutput[] outputs;
    private int unfinished;
    /** Prompt tokens served from shared KV blocks: the least any choice found, -1 before the first. */
    private int cachedPromptTokens = -1;

    /**
     * @param constraint the grammar every choice follows, or null
     * @param tools the request's tool calling, or null
     * @param seed the request's seed (its own, or drawn), which also draws its tool call ids
     */
    RequestState(GenerationRequest request, int[] promptTokens, Grammar constraint, ToolCalling tools, long seed,
            ResponseBuilder responses, CompletableFuture<InferenceResult> future) {
        this.request = request;
        this.promptTokens = promptTokens;
        this.constraint = constraint;
        this.tools = tools;
        this.seed = seed;
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

    /** The grammar its choices follow, or null for free text. */
    Grammar constraint() {
        return constraint;
    }

    /** Its tool calling, or null. */
    ToolCalling tools() {
        return tools;
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
        outputs[index] = tools == null ? output : tools.extract(output, seed, index);
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
