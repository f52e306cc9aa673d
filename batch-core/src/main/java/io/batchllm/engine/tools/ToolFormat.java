package io.batchllm.engine.tools;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.grammar.ToolCallSyntax;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * How a model family writes tool calls, found from its chat template (the template writes earlier
 * calls into the prompt the way the model was trained to write them):
 * <ul>
 *   <li>{@link #HERMES} (Hermes 2 Pro and 3, Qwen 2.5): {@code <tool_call>\n{"name": ..., "arguments":
 *       {...}}\n</tool_call>}, one block per call, possibly after some text;</li>
 *   <li>{@link #LLAMA3_JSON} (Llama 3.1, 3.2, 3.3): the whole answer is {@code {"name": ...,
 *       "parameters": {...}}}, one call (the template refuses several);</li>
 *   <li>{@link #MISTRAL} (Mistral Nemo and kin): {@code [TOOL_CALLS][{"name": ..., "arguments": {...}},
 *       …]}.</li>
 * </ul>
 * Each format parses a finished output into its calls ({@link #parse}) and gives the syntax a
 * grammar needs to force calls ({@link #syntax}). Thread safe.
 */
public enum ToolFormat {
    HERMES("<tool_call>", new ToolCallSyntax("", "<tool_call>\n", "name", "arguments", "\n</tool_call>", "\n", false,
            "")),
    LLAMA3_JSON("<|python_tag|>", new ToolCallSyntax("", "", "name", "parameters", "", "", false, "")),
    MISTRAL("[TOOL_CALLS]", new ToolCallSyntax("[", "", "name", "arguments", "", ",", true, "]"));

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The text or special token the model writes before its calls (optional when parsing). */
    private final String marker;
    private final ToolCallSyntax syntax;

    ToolFormat(String marker, ToolCallSyntax syntax) {
        this.marker = marker;
        this.syntax = syntax;
    }

    /** One parsed call: the function and its arguments as compact JSON text. */
    public record Call(String name, String arguments) {
    }

    /**
     * The format a chat template writes tool calls in, or empty when it is none of these (the model
     * then cannot be given tools). Recognised by the marker each writes into the prompt:
     * {@code <tool_call>}, {@code [TOOL_CALLS]}, or Meta's instruction
     * {@code {"name": function name, "parameters": ...}}.
     */
    public static Optional<ToolFormat> detect(String templateSource) {
        if (templateSource.contains("<tool_call>")) {
            return Optional.of(HERMES);
        }
        if (templateSource.contains("[TOOL_CALLS]")) {
            return Optional.of(MISTRAL);
        }
        if (templateSource.contains("\"name\": function name, \"parameters\"")) {
            return Optional.of(LLAMA3_JSON);
        }
        return Optional.empty();
    }

    /** The syntax of this format's calls, for a grammar that forces them. */
    public ToolCallSyntax syntax() {
        return syntax;
    }

    /** Whether one output may hold several calls in this format (Llama 3.1's template allows one). */
    public boolean allowsParallelCalls() {
        return this != LLAMA3_JSON;
    }

    /**
     * The marker this format writes before its calls ({@code <tool_call>}, {@code <|python_tag|>},
     * {@code [TOOL_CALLS]}). Where the model's vocabulary has it as a control token, that token has
     * no text, so a constrained output may start with it and the parser does without it.
     */
    public String marker() {
        return marker;
    }

    /**
     * The calls in a finished output, or empty when it holds none that parse: then the whole output
     * is the answer's text, as vLLM's parsers treat output that is not a well-formed call. A call to
     * a function not in {@code functions}, or whose arguments are not a JSON object, makes the output
     * text too.
     *
     * @return the calls and the text before them ({@code ""} when there is none)
     */
    public Optional<Parsed> parse(String output, Set<String> functions) {
        try {
            return Optional.ofNullable(switch (this) {
                case HERMES -> parseHermes(output, functions);
                case LLAMA3_JSON -> parseJson(output.strip(), functions, "parameters");
                case MISTRAL -> parseMistral(output.strip(), functions);
            });
        } catch (JacksonException e) {
            return Optional.empty(); // not JSON: the model answered in text
        }
    }

    /** A parsed output: its text before the calls, and the calls (at least one). */
    public record Parsed(String content, List<Call> calls) {
        public Parsed {
            calls = List.copyOf(calls);
        }
    }

    private static Parsed parseHermes(String output, Set<String> functions) throws JacksonException {
        String open = "<tool_call>";
        String close = "</tool_call>";
        int first = output.indexOf(open);
        if (first < 0) {
            return null;
        }
        List<Call> calls = new ArrayList<>();
        int at = first;
        while (at >= 0) {
            int start = at + open.length();
            int end = output.indexOf(close, start);
            // a last block cut before its closing tag still counts, as the model may stop there
            String body = end < 0 ? output.substring(start) : output.substring(start, end);
            Call call = call(MAPPER.readTree(body.strip()), functions, "arguments");
            if (call == null) {
                return null;
            }
            calls.add(call);
            int next = end < 0 ? output.length() : end + close.length();
            at = output.indexOf(open, next);
            String between = output.substring(next, at < 0 ? output.length() : at);
            if (!between.isBlank()) {
                return null; // text after a call: not a clean call output
            }
        }
        return new Parsed(output.substring(0, first).strip(), calls);
    }

    private Parsed parseJson(String output, Set<String> functions, String argumentsKey) throws JacksonException {
        String body = output.startsWith(marker) ? output.substring(marker.length()).strip() : output;
        if (!body.startsWith("{")) {
            return null;
        }
        Call call = call(MAPPER.readTree(body), functions, argumentsKey);
        return call == null ? null : new Parsed("", List.of(call));
    }

    private Parsed parseMistral(String output, Set<String> functions) throws JacksonException {
        String body = output.startsWith(marker) ? output.substring(marker.length()).strip() : output;
        if (!body.startsWith("[")) {
            return null;
        }
        JsonNode array = MAPPER.readTree(body);
        if (!array.isArray() || array.isEmpty()) {
            return null;
        }
        List<Call> calls = new ArrayList<>();
        for (JsonNode item : array) {
            Call call = call(item, functions, "arguments");
            if (call == null) {
                return null;
            }
            calls.add(call);
        }
        return new Parsed("", calls);
    }

    /** The call an object describes, or null if it is not a call of a known function. */
    private static Call call(JsonNode node, Set<String> functions, String argumentsKey) {
        if (node == null || !node.isObject()) {
            return null;
        }
        JsonNode name = node.get("name");
        JsonNode arguments = node.has(argumentsKey) ? node.get(argumentsKey) : node.get("arguments");
        if (name == null || !name.isTextual() || !functions.contains(name.textValue()) || arguments == null) {
            return null;
        }
        if (arguments.isTextual()) {
            // some models write the arguments as a JSON string, as OpenAI's API carries them
            try {
                arguments = MAPPER.readTree(arguments.textValue());
            } catch (JacksonException e) {
                return null;
            }
        }
        return arguments != null && arguments.isObject() ? new Call(name.textValue(), arguments.toString()) : null;
    }
}
