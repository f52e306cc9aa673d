package io.batchllm.engine;

import io.batchllm.engine.chat.ChatMessage;
import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.grammar.GrammarException;
import io.batchllm.engine.grammar.Grammars;
import io.batchllm.engine.openai.ChoiceOutput;
import io.batchllm.engine.openai.FinishReason;
import io.batchllm.engine.openai.RequestException;
import io.batchllm.engine.openai.ToolRequest;
import io.batchllm.engine.sampling.SplitMix64;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.engine.tools.ToolFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One request's tool calling on one model: the grammar that forces calls when {@code tool_choice}
 * is {@code required} or names a function (arguments valid against the function's parameters), and
 * the parsing of each finished choice's output into {@code tool_calls} in the model's format. Call
 * ids are drawn from the request's seed, so a seeded request answers identically every time
 * (Mistral's template wants ids of 9 letters and digits, OpenAI's look like {@code call_…}).
 * Immutable.
 */
final class ToolCalling {
    private static final String ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /** Keeps the id stream apart from the sampling stream of the same seed. */
    private static final long ID_SALT = 0x7001_CA11_1D5E_ED00L;

    private final ToolFormat format;
    private final Set<String> functions;
    private final Grammar grammar;
    private final int leadingToken;

    private ToolCalling(ToolFormat format, Set<String> functions, Grammar grammar, int leadingToken) {
        this.format = format;
        this.functions = functions;
        this.grammar = grammar;
        this.leadingToken = leadingToken;
    }

    /**
     * The tool calling of {@code tools} on a model whose template writes calls in {@code format}.
     *
     * @param format the model's format, or empty when its template has none (then tools are refused)
     * @throws RequestException for a model without a tool-call format, or a function whose
     *     parameters a grammar cannot enforce when calls are forced
     */
    static ToolCalling of(ToolRequest tools, Optional<ToolFormat> format, Tokenizer tokenizer, String modelName) {
        ToolFormat f = format.orElseThrow(() -> new RequestException("tools", "unsupported_parameter", "model "
                + modelName + "'s chat template writes tool calls in none of the formats this engine parses (Hermes"
                + " and Qwen's <tool_call>, Llama 3.1's JSON, Mistral's [TOOL_CALLS]); remove tools, or set"
                + " tool_choice to \"none\""));
        Grammar grammar = null;
        if (tools.choice() != ToolRequest.Choice.AUTO) {
            try {
                grammar = Grammars.toolCalls(f.syntax(), tools.callable(), tools.parallel() && f.allowsParallelCalls());
            } catch (GrammarException e) {
                throw new RequestException("tools", "invalid_schema", "tools: " + e.getMessage());
            }
        }
        // the marker may be a control token, which has no text for the grammar: allow it first
        int marker = tokenizer.tokenId(f.marker());
        int leading = marker >= 0 && tokenizer.generatedBytes(marker).length == 0 ? marker : -1;
        return new ToolCalling(f, Set.copyOf(tools.callable().keySet()), grammar, leading);
    }

    /** The grammar that forces calls, or null when the model may also answer in text ({@code auto}). */
    Grammar grammar() {
        return grammar;
    }

    /** A control token the model may write before its forced calls (Mistral's {@code [TOOL_CALLS]}), or -1. */
    int leadingToken() {
        return leadingToken;
    }

    /**
     * {@code output} with the calls its text holds as tool calls ({@code finish_reason:
     * "tool_calls"}, the text before them as content); unchanged when it holds none, or when it was
     * cut by {@code max_tokens}.
     */
    ChoiceOutput extract(ChoiceOutput output, long seed, int choiceIndex) {
        if (output.finishReason() != FinishReason.STOP) {
            return output;
        }
        Optional<ToolFormat.Parsed> parsed = format.parse(output.text(), functions);
        if (parsed.isEmpty()) {
            return output;
        }
        SplittableRandom ids = new SplittableRandom(SplitMix64.streamSeed(seed ^ ID_SALT, choiceIndex));
        List<ChatMessage.ToolCall> calls = new ArrayList<>();
        for (ToolFormat.Call call : parsed.get().calls()) {
            calls.add(new ChatMessage.ToolCall(id(ids), call.name(), call.arguments()));
        }
        return new ChoiceOutput(parsed.get().content(), FinishReason.TOOL_CALLS, output.completionTokens(),
                output.logprobs(), calls);
    }

    private String id(SplittableRandom random) {
        int length = format == ToolFormat.MISTRAL ? 9 : 24;
        StringBuilder id = new StringBuilder(format == ToolFormat.MISTRAL ? "" : "call_");
        for (int i = 0; i < length; i++) {
            id.append(ID_CHARS.charAt(random.nextInt(ID_CHARS.length())));
        }
        return id.toString();
    }
}
