package io.batchllm.engine.openai;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.chat.ChatMessage;
import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses and validates the body of one {@code /v1/chat/completions} or {@code /v1/completions}
 * request into a {@link GenerationRequest}. Stateless and thread-safe.
 *
 * <p>Every problem is a {@link RequestException} naming the field ({@code param}), an OpenAI-style
 * code and a message with the allowed values. A field the endpoint does not know is refused, as
 * OpenAI refuses it, with the closest known name ({@link RequestFields}). Function tools
 * ({@code tools}, {@code tool_choice}, {@code parallel_tool_calls}) are read by {@link ToolRequest}.
 * Fields the engine cannot honour ({@code functions}, {@code audio}, {@code stream: true}, non-text
 * content parts, ...) are
 * rejected rather than silently ignored, because ignoring them would return something other than what
 * was asked for. Fields that change nothing in the output ({@code user}, {@code metadata},
 * {@code store}, the prompt-cache and identity hints, {@code service_tier}) are accepted and have no
 * effect. vLLM's sampling extensions {@code top_k}, {@code min_p}, {@code repetition_penalty},
 * {@code min_tokens}, {@code ignore_eos}, {@code stop_token_ids} and {@code skip_special_tokens} are
 * honoured on both endpoints. Structured outputs ({@code response_format} on chat, vLLM's
 * {@code guided_json}, {@code guided_choice}, {@code guided_regex} on both) are read by
 * {@link OutputConstraints} into the request's grammar.
 *
 * <p>Defaults: chat {@code max_tokens} null (generate until the context is full or the model ends),
 * completions {@value SamplingParams#DEFAULT_COMPLETIONS_MAX_TOKENS}; see {@link SamplingParams} for
 * the rest. {@code max_completion_tokens} wins over the deprecated {@code max_tokens}.
 */
public final class RequestParser {
    /** Highest {@code logprobs} on {@code /v1/completions}. */
    public static final int MAX_COMPLETIONS_LOGPROBS = 5;
    /** Most {@code stop_token_ids} per request. */
    public static final int MAX_STOP_TOKEN_IDS = 256;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern TOKEN_ID = Pattern.compile("0|[1-9][0-9]{0,9}");
    private static final Set<String> ROLES = Set.of("developer", "system", "user", "assistant", "tool");
    /** Chat fields the engine cannot honour: any non-null value is rejected. */
    private static final List<String> UNSUPPORTED_CHAT_FIELDS = List.of("audio", "prediction", "reasoning_effort",
            "verbosity", "web_search_options", "moderation");
    /** OpenAI's deprecated function-calling fields: harmless when empty ({@code []}) or {@code "none"}. */
    private static final List<String> FUNCTION_FIELDS = List.of("functions", "function_call");

    private RequestParser() {
    }

    /** Parses a body for {@code endpoint}. */
    public static GenerationRequest parse(Endpoint endpoint, String body) {
        return switch (endpoint) {
            case CHAT_COMPLETIONS -> parseChat(body);
            case COMPLETIONS -> parseCompletion(body);
        };
    }

    /**
     * Parses a {@code /v1/chat/completions} body.
     *
     * @throws RequestException if the body is not valid JSON, misses a required field, has a value of
     *     the wrong type or out of range, or asks for something the engine does not support
     */
    public static GenerationRequest parseChat(String body) {
        ObjectNode object = readObject(body);
        RequestFields.checkChat(object);
        JsonFields fields = new JsonFields(object, "");
        String model = model(fields);
        rejectStreaming(fields);
        rejectUnsupportedChatFields(fields);
        List<ChatMessage> messages = messages(fields);
        SamplingParams.Builder sampling = commonSampling(fields);
        Integer maxTokens = maxTokens(fields);
        sampling.maxTokens(maxTokens).minTokens(minTokens(fields, maxTokens, ""));
        Boolean logprobs = fields.optionalBoolean("logprobs");
        Integer topLogprobs = fields.optionalInt("top_logprobs", 0, SamplingParams.MAX_TOP_LOGPROBS);
        if (topLogprobs != null && !Boolean.TRUE.equals(logprobs)) {
            throw new RequestException("top_logprobs", "invalid_value",
                    "top_logprobs requires logprobs to be true; set \"logprobs\": true or drop top_logprobs");
        }
        sampling.logprobs(Boolean.TRUE.equals(logprobs)).topLogprobs(topLogprobs == null ? 0 : topLogprobs);
        SamplingParams params = sampling.build();
        Grammar constraint = constraint(fields, params, true);
        ToolRequest tools = ToolRequest.read(fields);
        if (tools != null) {
            checkTools(fields, tools, constraint, params);
        }
        return new GenerationRequest(Endpoint.CHAT_COMPLETIONS, model, new Prompt.Chat(messages), params, constraint,
                tools);
    }

    /**
     * Parses a {@code /v1/completions} body. The prompt must be one prompt: a string, a one-element
     * string array, a token-id array or a one-element array of token-id arrays, since each batch line
     * produces one response.
     *
     * @throws RequestException as {@link #parseChat}, and for several prompts in one line
     */
    public static GenerationRequest parseCompletion(String body) {
        ObjectNode object = readObject(body);
        RequestFields.checkCompletion(object);
        JsonFields fields = new JsonFields(object, "");
        String model = model(fields);
        rejectStreaming(fields);
        if (Boolean.TRUE.equals(fields.optionalBoolean("echo"))) {
            throw new RequestException("echo", "unsupported_value",
                    "echo is not supported; the prompt is not repeated in the completion. Remove echo or set it to false");
        }
        JsonNode suffix = fields.get("suffix");
        if (suffix != null && !(suffix.isTextual() && suffix.textValue().isEmpty())) {
            throw new RequestException("suffix", "unsupported_parameter",
                    "suffix (insertion) is not supported; remove it");
        }
        Integer bestOf = fields.optionalInt("best_of", 1, 20);
        if (bestOf != null && bestOf > 1) {
            throw new RequestException("best_of", "unsupported_value",
                    "best_of greater than 1 is not supported; use n to get several completions, got " + bestOf);
        }
        Prompt prompt = completionPrompt(fields);
        SamplingParams.Builder sampling = commonSampling(fields);
        Integer maxTokens = maxTokens(fields);
        if (maxTokens == null) {
            sampling.maxTokens(SamplingParams.DEFAULT_COMPLETIONS_MAX_TOKENS).minTokens(minTokens(fields,
                    SamplingParams.DEFAULT_COMPLETIONS_MAX_TOKENS, ", the default of /v1/completions"));
        } else {
            sampling.maxTokens(maxTokens).minTokens(minTokens(fields, maxTokens, ""));
        }
        Integer logprobs = fields.optionalInt("logprobs", 0, MAX_COMPLETIONS_LOGPROBS);
        sampling.logprobs(logprobs != null).topLogprobs(logprobs == null ? 0 : logprobs);
        SamplingParams params = sampling.build();
        return new GenerationRequest(Endpoint.COMPLETIONS, model, prompt, params, constraint(fields, params, false),
                null);
    }

    /**
     * A response format or guided decoding beside tools would need the output to be both; and calls
     * forced by {@code tool_choice} must be able to end like any constrained output.
     */
    private static void checkTools(JsonFields fields, ToolRequest tools, Grammar constraint, SamplingParams sampling) {
        if (constraint != null) {
            String param = OutputConstraints.paramOf(fields, true);
            throw new RequestException(param, "invalid_value", param + " cannot be combined with tools: the output"
                    + " would have to be both; set tool_choice to \"none\" or remove " + param);
        }
        if (tools.choice() != ToolRequest.Choice.AUTO) {
            OutputConstraints.checkCompatible(true, sampling, "tool_choice");
        }
    }

    /** The request's output constraint (a grammar), checked against its sampling settings; null if none. */
    private static Grammar constraint(JsonFields fields, SamplingParams sampling, boolean chat) {
        Grammar grammar = OutputConstraints.read(fields, chat);
        OutputConstraints.checkCompatible(grammar != null, sampling, OutputConstraints.paramOf(fields, chat));
        return grammar;
    }

    private static ObjectNode readObject(String body) {
        JsonNode root;
        try {
            root = MAPPER.readTree(body);
        } catch (JacksonException e) {
            throw new RequestException(null, "invalid_json",
                    "the request body is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new RequestException(null, "invalid_type", "the request body must be a JSON object, got "
                    + (root == null ? "nothing" : JsonFields.describe(root)));
        }
        return (ObjectNode) root;
    }

    private static String model(JsonFields fields) {
        String model = fields.requiredString("model");
        if (model.isBlank()) {
            throw new RequestException("model", "invalid_value", "model must name a model, got an empty string");
        }
        return model;
    }

    private static void rejectStreaming(JsonFields fields) {
        if (Boolean.TRUE.equals(fields.optionalBoolean("stream"))) {
            throw new RequestException("stream", "unsupported_value",
                    "stream is not supported in batch requests; remove stream or set it to false");
        }
        if (fields.has("stream_options")) {
            throw new RequestException("stream_options", "invalid_value", "stream_options is only allowed when"
                    + " stream is true, and batch requests do not stream; remove stream_options");
        }
    }

    private static void rejectUnsupportedChatFields(JsonFields fields) {
        for (String name : FUNCTION_FIELDS) {
            JsonNode node = fields.get(name);
            boolean harmless = node == null || node.isArray() && node.isEmpty()
                    || node.isTextual() && node.textValue().equals("none");
            if (!harmless) {
                throw new RequestException(name, "unsupported_parameter", name + " (OpenAI's deprecated function"
                        + " calling) is not supported; send the functions as tools and tool_choice");
            }
        }
        for (String name : UNSUPPORTED_CHAT_FIELDS) {
            if (fields.has(name)) {
                throw new RequestException(name, "unsupported_parameter", name + " is not supported; remove " + name);
            }
        }
        JsonNode modalities = fields.get("modalities");
        if (modalities != null) {
            if (!modalities.isArray()) {
                throw fields.invalidType("modalities", "an array of strings", modalities);
            }
            for (JsonNode modality : modalities) {
                if (!modality.isTextual() || !modality.textValue().equals("text")) {
                    throw new RequestException("modalities", "unsupported_value",
                            "modalities may only contain \"text\", got " + modality);
                }
            }
        }
    }

    private static List<ChatMessage> messages(JsonFields fields) {
        JsonNode node = fields.required("messages", "an array of messages");
        if (!node.isArray()) {
            throw fields.invalidType("messages", "an array of messages", node);
        }
        if (node.isEmpty()) {
            throw new RequestException("messages", "empty_array", "messages must hold at least one message, got []");
        }
        List<ChatMessage> messages = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            messages.add(message(node.get(i), "messages[" + i + "]"));
        }
        return messages;
    }

    private static ChatMessage message(JsonNode node, String param) {
        if (!node.isObject()) {
            throw JsonFields.wrongType(param, "a message object", node);
        }
        JsonFields fields = new JsonFields((ObjectNode) node, param + ".");
        String role = fields.requiredString("role");
        if (!ROLES.contains(role)) {
            throw new RequestException(fields.param("role"), "invalid_value", fields.param("role")
                    + " must be one of developer, system, user, assistant, tool, got \"" + role + "\"");
        }
        List<ChatMessage.ToolCall> toolCalls = List.of();
        if (role.equals("assistant")) {
            if (fields.has("function_call")) {
                throw new RequestException(fields.param("function_call"), "unsupported_parameter",
                        fields.param("function_call") + " (deprecated) is not supported; send the call as tool_calls");
            }
            if (fields.has("audio")) {
                throw new RequestException(fields.param("audio"), "unsupported_parameter",
                        fields.param("audio") + " is not supported: this engine reads and writes text only");
            }
            toolCalls = ToolCalls.parse(fields);
        }
        String toolCallId = role.equals("tool") ? fields.requiredString("tool_call_id") : null;
        String name = fields.has("name") ? fields.requiredString("name") : null;
        String content = content(fields, role, !toolCalls.isEmpty());
        // Chat templates know "system"; OpenAI's newer "developer" role means the same to an open model.
        return new ChatMessage(role.equals("developer") ? "system" : role, content, name, toolCallId, toolCalls);
    }

    /**
     * A string, or text parts joined with newlines (as vLLM joins them). Only an assistant may omit
     * it: with tool calls the template sees None, as OpenAI's null content means; without, "".
     */
    private static String content(JsonFields fields, String role, boolean hasToolCalls) {
        JsonNode node = fields.get("content");
        if (node == null) {
            if (role.equals("assistant")) {
                return hasToolCalls ? null : "";
            }
            throw new RequestException(fields.param("content"), "missing_required_parameter",
                    "missing required parameter " + fields.param("content") + " (a string or an array of text parts)");
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (!node.isArray()) {
            throw fields.invalidType("content", "a string or an array of text parts", node);
        }
        List<String> texts = new ArrayList<>(node.size());
        for (int j = 0; j < node.size(); j++) {
            texts.add(textPart(node.get(j), fields.param("content") + "[" + j + "]"));
        }
        return String.join("\n", texts);
    }

    private static String textPart(JsonNode node, String param) {
        if (!node.isObject()) {
            throw JsonFields.wrongType(param, "a content part object like {\"type\": \"text\", \"text\": \"...\"}", node);
        }
        JsonFields part = new JsonFields((ObjectNode) node, param + ".");
        String type = part.requiredString("type");
        switch (type) {
            case "text" -> {
                return part.requiredString("text");
            }
            case "image_url", "input_image", "image", "input_audio", "audio", "file", "input_file" ->
                    throw new RequestException(part.param("type"), "unsupported_value", part.param("type")
                            + " \"" + type + "\" is not supported: this engine reads text only; send text parts");
            default -> throw new RequestException(part.param("type"), "invalid_value",
                    part.param("type") + " must be \"text\", got \"" + type + "\"");
        }
    }

    private static Prompt completionPrompt(JsonFields fields) {
        JsonNode node = fields.required("prompt", "a string, an array of token ids, or one of each in an array");
        if (node.isTextual()) {
            return new Prompt.Text(node.textValue());
        }
        if (!node.isArray()) {
            throw fields.invalidType("prompt", "a string or an array", node);
        }
        if (node.isEmpty()) {
            throw new RequestException("prompt", "empty_array", "prompt must not be an empty array");
        }
        JsonNode first = node.get(0);
        if (first.isIntegralNumber()) {
            return new Prompt.Tokens(tokenIds(node, "prompt"));
        }
        if (node.size() > 1 && (first.isTextual() || first.isArray())) {
            throw new RequestException("prompt", "unsupported_value", "prompt holds " + node.size()
                    + " prompts, but each batch line must carry exactly one; put each prompt on its own line");
        }
        if (first.isTextual()) {
            return new Prompt.Text(first.textValue());
        }
        if (first.isArray()) {
            if (first.isEmpty()) {
                throw new RequestException("prompt[0]", "empty_array", "prompt[0] must hold at least one token id");
            }
            return new Prompt.Tokens(tokenIds(first, "prompt[0]"));
        }
        throw fields.invalidType("prompt", "a string, an array of strings, an array of token ids or an array of token-id arrays", node);
    }

    private static int[] tokenIds(JsonNode array, String param) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = array.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw new RequestException(param, "invalid_value",
                        param + "[" + i + "] must be a token id (an integer >= 0), got " + id);
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    private static Integer maxTokens(JsonFields fields) {
        Integer maxTokens = fields.optionalInt("max_tokens", 1, Integer.MAX_VALUE);
        Integer maxCompletionTokens = fields.optionalInt("max_completion_tokens", 1, Integer.MAX_VALUE);
        return maxCompletionTokens != null ? maxCompletionTokens : maxTokens;
    }

    /** {@code min_tokens}, at most {@code maxTokens} (described by {@code whichMax} in the message). */
    private static int minTokens(JsonFields fields, Integer maxTokens, String whichMax) {
        Integer minTokens = fields.optionalInt("min_tokens", 0, Integer.MAX_VALUE);
        if (minTokens == null) {
            return 0;
        }
        if (maxTokens != null && minTokens > maxTokens) {
            throw new RequestException("min_tokens", "invalid_value", "min_tokens (" + minTokens
                    + ") must not exceed max_tokens (" + maxTokens + whichMax + "); lower min_tokens or raise max_tokens");
        }
        return minTokens;
    }

    /** The fields both endpoints share. */
    private static SamplingParams.Builder commonSampling(JsonFields fields) {
        double maxPenalty = SamplingParams.MAX_PENALTY;
        Integer n = fields.optionalInt("n", 1, SamplingParams.MAX_N);
        // vLLM takes -1 (and 0) for "no top-k"
        Integer topK = fields.optionalInt("top_k", -1, Integer.MAX_VALUE);
        if (Boolean.FALSE.equals(fields.optionalBoolean("skip_special_tokens"))) {
            throw new RequestException("skip_special_tokens", "unsupported_value", "skip_special_tokens false is not"
                    + " supported: special tokens are always left out of the text (the logprobs show them); remove it"
                    + " or set it to true");
        }
        Boolean ignoreEos = fields.optionalBoolean("ignore_eos");
        return SamplingParams.builder()
                .temperature(fields.optionalNumber("temperature", 0, SamplingParams.MAX_TEMPERATURE,
                        SamplingParams.DEFAULT_TEMPERATURE))
                .topP(fields.optionalNumber("top_p", 0, 1, 1))
                .topK(topK == null || topK < 0 ? 0 : topK)
                .minP(fields.optionalNumber("min_p", 0, 1, 0))
                .seed(fields.optionalLong("seed"))
                .stop(stop(fields))
                .n(n == null ? 1 : n)
                .presencePenalty(fields.optionalNumber("presence_penalty", -maxPenalty, maxPenalty, 0))
                .frequencyPenalty(fields.optionalNumber("frequency_penalty", -maxPenalty, maxPenalty, 0))
                .logitBias(logitBias(fields))
                .repetitionPenalty(repetitionPenalty(fields))
                .ignoreEos(Boolean.TRUE.equals(ignoreEos))
                .stopTokenIds(stopTokenIds(fields));
    }

    private static double repetitionPenalty(JsonFields fields) {
        JsonNode node = fields.get("repetition_penalty");
        if (node == null) {
            return 1;
        }
        if (!node.isNumber()) {
            throw fields.invalidType("repetition_penalty", "a number", node);
        }
        double value = node.doubleValue();
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new RequestException("repetition_penalty", "decimal_below_min_value",
                    "repetition_penalty must be greater than 0 (1 means no penalty), got " + node);
        }
        return value;
    }

    private static List<Integer> stopTokenIds(JsonFields fields) {
        JsonNode node = fields.get("stop_token_ids");
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw fields.invalidType("stop_token_ids", "an array of token ids", node);
        }
        if (node.size() > MAX_STOP_TOKEN_IDS) {
            throw new RequestException("stop_token_ids", "array_above_max_length", "stop_token_ids may hold at most "
                    + MAX_STOP_TOKEN_IDS + " token ids, got " + node.size());
        }
        List<Integer> ids = new ArrayList<>(node.size());
        for (int id : tokenIds(node, "stop_token_ids")) {
            ids.add(id);
        }
        return ids;
    }

    private static List<String> stop(JsonFields fields) {
        JsonNode node = fields.get("stop");
        if (node == null) {
            return List.of();
        }
        if (node.isTextual()) {
            return List.of(stopString(node, "stop"));
        }
        if (!node.isArray()) {
            throw fields.invalidType("stop", "a string or an array of up to 4 strings", node);
        }
        if (node.size() > SamplingParams.MAX_STOP_STRINGS) {
            throw new RequestException("stop", "array_above_max_length", "stop may hold at most "
                    + SamplingParams.MAX_STOP_STRINGS + " strings, got " + node.size());
        }
        List<String> stops = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            stops.add(stopString(node.get(i), "stop[" + i + "]"));
        }
        return stops;
    }

    private static String stopString(JsonNode node, String param) {
        if (!node.isTextual()) {
            throw JsonFields.wrongType(param, "a string", node);
        }
        if (node.textValue().isEmpty()) {
            throw new RequestException("stop", "invalid_value", param + " must not be an empty string");
        }
        return node.textValue();
    }

    private static Map<Integer, Float> logitBias(JsonFields fields) {
        JsonNode node = fields.get("logit_bias");
        if (node == null) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw fields.invalidType("logit_bias", "an object mapping token ids to biases", node);
        }
        Map<Integer, Float> biases = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            int token = tokenIdKey(entry.getKey());
            JsonNode bias = entry.getValue();
            if (!bias.isNumber()) {
                throw JsonFields.wrongType("logit_bias", "an object whose values are numbers (logit_bias[\""
                        + entry.getKey() + "\"])", bias);
            }
            double value = bias.doubleValue();
            if (!(Math.abs(value) <= SamplingParams.MAX_LOGIT_BIAS)) {
                throw new RequestException("logit_bias", value < 0 ? "decimal_below_min_value" : "decimal_above_max_value",
                        "logit_bias[\"" + entry.getKey() + "\"] must be between -100 and 100, got " + bias);
            }
            biases.put(token, (float) value);
        }
        return biases;
    }

    private static int tokenIdKey(String key) {
        if (TOKEN_ID.matcher(key).matches()) {
            long token = Long.parseLong(key);
            if (token <= Integer.MAX_VALUE) {
                return (int) token;
            }
        }
        throw new RequestException("logit_bias", "invalid_value",
                "logit_bias keys must be token ids (non-negative integers written as strings), got \"" + key + "\"");
    }
}
