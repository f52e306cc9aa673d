package io.batchllm.engine.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.spi.InferenceResult;
import io.batchllm.spi.TokenUsage;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Builds the 200 response bodies of {@code /v1/chat/completions} ({@code chat.completion}) and
 * {@code /v1/completions} ({@code text_completion}) from the engine's per-choice outputs.
 * Immutable and thread-safe.
 *
 * <p>Choice {@code i} of the list becomes {@code choices[i]} with {@code index: i}. Usage counts the
 * prompt once and sums completion tokens over all choices, as OpenAI bills {@code n > 1}.
 * {@code created} is the injected clock's time in epoch seconds; ids are {@code chatcmpl-} or
 * {@code cmpl-} followed by 32 random hex digits.
 */
public final class ResponseBuilder {
    /** OpenAI writes logprobs of effectively impossible tokens as this value instead of -Infinity. */
    public static final float MIN_LOGPROB = -9999.0f;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Clock clock;
    private final String systemFingerprint;

    /**
     * @param clock gives {@code created}
     * @param systemFingerprint the {@code system_fingerprint} of chat responses: identifies the
     *     model file and engine configuration, so clients can tell when seeded results may change
     */
    public ResponseBuilder(Clock clock, String systemFingerprint) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.systemFingerprint = Objects.requireNonNull(systemFingerprint, "systemFingerprint");
    }

    /**
     * The response for {@code request}'s endpoint, echoing its model.
     *
     * @param request the parsed request
     * @param promptTokens the prompt's length in tokens after templating (counted once for n > 1)
     * @param cachedPromptTokens how many of those were served from a prefix cache
     * @param choices one output per choice index, at least one
     * @return a 200 result whose usage matches the body's
     */
    public InferenceResult build(GenerationRequest request, int promptTokens, int cachedPromptTokens,
            List<ChoiceOutput> choices) {
        return switch (request.endpoint()) {
            case CHAT_COMPLETIONS -> chatCompletion(request.model(), promptTokens, cachedPromptTokens, choices);
            case COMPLETIONS -> textCompletion(request.model(), promptTokens, cachedPromptTokens, choices);
        };
    }

    /**
     * A {@code chat.completion} body:
     * {@code {id, object, created, model, choices:[{index, message:{role, content, refusal, tool_calls?},
     * logprobs, finish_reason}], usage:{prompt_tokens, completion_tokens, total_tokens,
     * prompt_tokens_details: {cached_tokens}}, system_fingerprint}}. A message that calls tools has
     * {@code tool_calls: [{id, type: "function", function: {name, arguments}}]}, and a null
     * {@code content} unless the model wrote text before its calls. Parameters as {@link #build}.
     */
    public InferenceResult chatCompletion(String model, int promptTokens, int cachedPromptTokens,
            List<ChoiceOutput> choices) {
        ObjectNode root = header("chatcmpl-", "chat.completion", model);
        ArrayNode array = root.putArray("choices");
        for (int i = 0; i < choices.size(); i++) {
            ChoiceOutput choice = choices.get(i);
            ObjectNode node = array.addObject().put("index", i);
            ObjectNode message = node.putObject("message").put("role", "assistant");
            if (choice.toolCalls().isEmpty() || !choice.text().isEmpty()) {
                message.put("content", choice.text());
            } else {
                message.putNull("content"); // OpenAI's content of a message that only calls tools
            }
            message.putNull("refusal");
            if (!choice.toolCalls().isEmpty()) {
                ArrayNode calls = message.putArray("tool_calls");
                for (var call : choice.toolCalls()) {
                    calls.addObject().put("id", call.id()).put("type", "function").putObject("function")
                            .put("name", call.name()).put("arguments", call.arguments());
                }
            }
            if (choice.logprobs() == null) {
                node.putNull("logprobs");
            } else {
                ObjectNode logprobs = node.putObject("logprobs");
                ArrayNode content = logprobs.putArray("content");
                for (LogprobEntry entry : choice.logprobs()) {
                    ObjectNode position = chatToken(content.addObject(), entry.chosen());
                    ArrayNode top = position.putArray("top_logprobs");
                    entry.alternatives().forEach(alternative -> chatToken(top.addObject(), alternative));
                }
                logprobs.putNull("refusal");
            }
            node.put("finish_reason", choice.finishReason().wireName());
        }
        TokenUsage usage = usage(promptTokens, cachedPromptTokens, choices);
        usage(root, usage).putObject("prompt_tokens_details").put("cached_tokens", cachedPromptTokens);
        root.put("system_fingerprint", systemFingerprint);
        return InferenceResult.ok(write(root), usage);
    }

    /**
     * A {@code text_completion} body:
     * {@code {id, object, created, model, choices:[{text, index, logprobs, finish_reason}], usage}},
     * where logprobs is null or {@code {tokens, token_logprobs, top_logprobs:[{token: logprob}],
     * text_offset}}. {@code text_offset} counts Unicode code points from the start of the choice's
     * text (there is no echo), like OpenAI's Python-based server; when two alternatives decode to the
     * same text, the map keeps the more likely one. Parameters as {@link #build}.
     */
    public InferenceResult textCompletion(String model, int promptTokens, int cachedPromptTokens,
            List<ChoiceOutput> choices) {
        ObjectNode root = header("cmpl-", "text_completion", model);
        ArrayNode array = root.putArray("choices");
        for (int i = 0; i < choices.size(); i++) {
            ChoiceOutput choice = choices.get(i);
            ObjectNode node = array.addObject().put("text", choice.text()).put("index", i);
            if (choice.logprobs() == null) {
                node.putNull("logprobs");
            } else {
                completionLogprobs(node.putObject("logprobs"), choice.logprobs());
            }
            node.put("finish_reason", choice.finishReason().wireName());
        }
        TokenUsage usage = usage(promptTokens, cachedPromptTokens, choices);
        usage(root, usage);
        return InferenceResult.ok(write(root), usage);
    }

    private ObjectNode header(String idPrefix, String object, String model) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("id", idPrefix + UUID.randomUUID().toString().replace("-", ""));
        root.put("object", object);
        root.put("created", clock.instant().getEpochSecond());
        root.put("model", model);
        return root;
    }

    private static ObjectNode chatToken(ObjectNode node, LogprobToken token) {
        node.put("token", token.text());
        node.put("logprob", clamp(token.logprob()));
        ArrayNode bytes = node.putArray("bytes");
        for (byte b : token.bytes()) {
            bytes.add(b & 0xFF);
        }
        return node;
    }

    private static void completionLogprobs(ObjectNode node, List<LogprobEntry> entries) {
        ArrayNode tokens = node.putArray("tokens");
        ArrayNode tokenLogprobs = node.putArray("token_logprobs");
        ArrayNode topLogprobs = node.putArray("top_logprobs");
        ArrayNode textOffsets = node.putArray("text_offset");
        int offset = 0;
        for (LogprobEntry entry : entries) {
            String text = entry.chosen().text();
            tokens.add(text);
            tokenLogprobs.add(clamp(entry.chosen().logprob()));
            ObjectNode top = topLogprobs.addObject();
            for (LogprobToken alternative : entry.alternatives()) {
                if (!top.has(alternative.text())) {
                    top.put(alternative.text(), clamp(alternative.logprob()));
                }
            }
            textOffsets.add(offset);
            offset += text.codePointCount(0, text.length());
        }
    }

    private static TokenUsage usage(int promptTokens, int cachedPromptTokens, List<ChoiceOutput> choices) {
        if (choices.isEmpty()) {
            throw new IllegalArgumentException("a response needs at least one choice");
        }
        long completion = choices.stream().mapToLong(ChoiceOutput::completionTokens).sum();
        return new TokenUsage(promptTokens, completion, cachedPromptTokens);
    }

    private static ObjectNode usage(ObjectNode root, TokenUsage usage) {
        return root.putObject("usage")
                .put("prompt_tokens", usage.promptTokens())
                .put("completion_tokens", usage.completionTokens())
                .put("total_tokens", usage.totalTokens());
    }

    private static float clamp(float logprob) {
        return logprob >= MIN_LOGPROB ? logprob : MIN_LOGPROB;
    }

    private static String write(ObjectNode root) {
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            // a tree of plain nodes always serializes; reaching this is a bug in this class
            throw new IllegalStateException("could not serialize a response tree", e);
        }
    }
}
