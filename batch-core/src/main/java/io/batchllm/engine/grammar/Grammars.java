package io.batchllm.engine.grammar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Builds {@link Grammar}s for the structured-output constraints requests carry, each distinct one
 * compiled once: a bounded cache (least recently used first out) keyed by the constraint's kind and
 * text, so a batch of 50,000 lines with one schema compiles it once. Thread safe.
 */
public final class Grammars {
    /** Distinct constraints kept compiled. */
    static final int CACHE_SIZE = 256;

    private static final Map<String, Grammar> CACHE = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    private Grammars() {
    }

    /**
     * JSON text that validates against {@code schema} (see {@link JsonSchemaCompiler} for what is
     * supported): OpenAI's {@code response_format: json_schema}, vLLM's {@code guided_json}.
     *
     * @throws GrammarException naming an unsupported keyword or a malformed part, and where it is
     */
    public static Grammar jsonSchema(JsonNode schema) {
        return cached("schema:" + schema, () -> JsonSchemaCompiler.compile(schema));
    }

    /** Any JSON object: OpenAI's {@code response_format: json_object} (JSON mode). */
    public static Grammar jsonObject() {
        return cached("json_object", () -> {
            ObjectNode anyObject = JsonNodeFactory.instance.objectNode().put("type", "object")
                    .put("additionalProperties", true);
            return JsonSchemaCompiler.compile(anyObject);
        });
    }

    /**
     * Text that matches {@code pattern} as a whole (vLLM's {@code guided_regex}); see {@link Regex}
     * for the syntax.
     *
     * @throws GrammarException naming an unsupported construct
     */
    public static Grammar regex(String pattern) {
        return cached("regex:" + pattern, () -> new Grammar(List.of(Regex.fullMatch(pattern, Utf8::encode)),
                "the regex " + pattern));
    }

    /**
     * Exactly one of {@code choices} (vLLM's {@code guided_choice}).
     *
     * @throws GrammarException if there are none
     */
    public static Grammar choice(List<String> choices) {
        if (choices.isEmpty()) {
            throw new GrammarException("a choice needs at least one option");
        }
        return cached("choice:" + JsonNodeFactory.instance.arrayNode().addAll(choices.stream()
                .map(JsonNodeFactory.instance::textNode).toList()), () -> {
                    List<Expr> options = new ArrayList<>(choices.size());
                    for (String c : choices) {
                        options.add(Expr.literal(c));
                    }
                    return new Grammar(List.of(Expr.alt(options)), "one of " + choices);
                });
    }

    /** Most calls a parallel tool-call grammar allows in one output, so a model cannot loop on calls. */
    public static final int MAX_PARALLEL_CALLS = 8;

    /**
     * Tool calls as a model family writes them ({@code syntax}): one call, or with {@code parallel}
     * one to {@value #MAX_PARALLEL_CALLS}, of the functions in {@code functions} (name to its
     * parameters' JSON Schema; null for any object), each call's arguments valid against its
     * function's schema. What {@code tool_choice: required} (all the request's functions) or a named
     * function (that one) constrains the output to.
     *
     * @throws GrammarException naming the function whose parameters use an unsupported keyword
     */
    public static Grammar toolCalls(ToolCallSyntax syntax, Map<String, JsonNode> functions, boolean parallel) {
        if (functions.isEmpty()) {
            throw new GrammarException("tool calls need at least one function");
        }
        StringBuilder key = new StringBuilder("tools:").append(syntax).append(parallel);
        functions.forEach((name, parameters) -> key.append('\n').append(name).append('=').append(parameters));
        return cached(key.toString(), () -> {
            List<Expr> rules = new ArrayList<>();
            rules.add(null);
            List<Expr> calls = new ArrayList<>();
            Expr colon = Expr.seq(JsonText.WS, Expr.literal(":"), JsonText.WS);
            Expr comma = Expr.seq(JsonText.WS, Expr.literal(","), JsonText.WS);
            for (Map.Entry<String, JsonNode> f : functions.entrySet()) {
                JsonNode parameters = f.getValue() != null ? f.getValue()
                        : JsonNodeFactory.instance.objectNode().put("type", "object");
                Expr arguments;
                try {
                    arguments = new JsonSchemaCompiler(parameters, rules).value();
                } catch (GrammarException e) {
                    throw new GrammarException("function " + f.getKey() + "'s parameters: " + e.getMessage());
                }
                calls.add(Expr.seq(Expr.literal(syntax.callOpen() + "{"), JsonText.WS,
                        Expr.literal(quoted(syntax.nameKey())), colon, Expr.literal(quoted(f.getKey())), comma,
                        Expr.literal(quoted(syntax.argumentsKey())), colon, arguments, JsonText.WS,
                        Expr.literal("}" + syntax.callClose())));
            }
            Expr call = Expr.alt(calls);
            Expr separator = syntax.jsonSeparator() ? comma : Expr.literal(syntax.separator());
            Expr more = parallel ? new Expr.Repeat(Expr.seq(separator, call), 0, MAX_PARALLEL_CALLS - 1) : Expr.EMPTY;
            rules.set(0, Expr.seq(JsonText.WS, Expr.literal(syntax.listOpen()), call, more,
                    Expr.literal(syntax.listClose()), JsonText.WS));
            return new Grammar(rules, "tool calls of " + String.join(", ", functions.keySet()));
        });
    }

    private static String quoted(String text) {
        return JsonNodeFactory.instance.textNode(text).toString();
    }

    private static Grammar cached(String key, Supplier<Grammar> compile) {
        synchronized (CACHE) {
            Grammar g = CACHE.get(key);
            if (g != null) {
                return g;
            }
        }
        // compiled outside the lock: two threads may compile the same constraint once each, harmlessly
        Grammar g = compile.get();
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(key, k -> g);
        }
    }
}
