package io.batchllm.engine.openai;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.grammar.GrammarException;
import io.batchllm.engine.grammar.Grammars;
import io.batchllm.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a request's structured-output constraint, if any, into a {@link Grammar}: OpenAI's
 * {@code response_format} ({@code text}, {@code json_object}, {@code json_schema}) on chat, vLLM's
 * {@code guided_json}, {@code guided_choice} and {@code guided_regex} on both endpoints. At most one
 * may constrain a request. Every problem is a {@link RequestException} naming the field: a malformed
 * {@code response_format}, an unknown key in it, a schema keyword or regex construct the grammar
 * cannot enforce (named, with where it is), and settings a constraint cannot be combined with
 * ({@code ignore_eos}, {@code min_tokens}). Stateless.
 */
final class OutputConstraints {
    /** vLLM's guided decoding fields that the engine honours, on both endpoints. */
    static final Set<String> GUIDED = Set.of("guided_json", "guided_choice", "guided_regex");

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** OpenAI's rule for {@code json_schema.name}. */
    private static final Pattern SCHEMA_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final Set<String> RESPONSE_FORMAT_KEYS = Set.of("type", "json_schema");
    private static final Set<String> JSON_SCHEMA_KEYS = Set.of("name", "description", "schema", "strict");

    private OutputConstraints() {
    }

    /**
     * The grammar the request's output must follow, or null when it is free text.
     *
     * @param chat whether the body is a chat request ({@code response_format} is a chat field)
     */
    static Grammar read(JsonFields fields, boolean chat) {
        List<String> given = new ArrayList<>();
        Grammar grammar = null;
        if (chat) {
            grammar = responseFormat(fields);
            if (grammar != null) {
                given.add("response_format");
            }
        }
        for (String name : List.of("guided_json", "guided_choice", "guided_regex")) {
            if (fields.has(name)) {
                given.add(name);
                grammar = guided(fields, name);
            }
        }
        if (given.size() > 1) {
            throw new RequestException(given.get(1), "invalid_value", "a request takes one output constraint, but this one"
                    + " has " + String.join(" and ", given) + "; keep one");
        }
        return grammar;
    }

    /**
     * Refuses settings that contradict a constraint: {@code ignore_eos} (a constrained choice ends with
     * an end token once its text is complete) and {@code min_tokens} (it could forbid ending a
     * complete text).
     */
    static void checkCompatible(boolean constrained, SamplingParams sampling, String constraintParam) {
        if (!constrained) {
            return;
        }
        if (sampling.ignoreEos()) {
            throw new RequestException("ignore_eos", "invalid_value", "ignore_eos cannot be combined with "
                    + constraintParam + ": a constrained output ends with its end token once it is complete; remove"
                    + " ignore_eos");
        }
        if (sampling.minTokens() > 0) {
            throw new RequestException("min_tokens", "invalid_value", "min_tokens cannot be combined with "
                    + constraintParam + ": it could forbid ending an output that is complete; remove min_tokens");
        }
    }

    /** The field that carries the request's constraint, for messages. */
    static String paramOf(JsonFields fields, boolean chat) {
        for (String name : List.of("guided_json", "guided_choice", "guided_regex")) {
            if (fields.has(name)) {
                return name;
            }
        }
        return chat ? "response_format" : null;
    }

    private static Grammar responseFormat(JsonFields fields) {
        JsonNode format = fields.get("response_format");
        if (format == null) {
            return null;
        }
        JsonFields f = JsonFields.object(format, "response_format", RESPONSE_FORMAT_KEYS,
                "an object like {\"type\": \"json_object\"}");
        String type = f.requiredString("type");
        switch (type) {
            case "text" -> {
                refuseKey(f, "json_schema", "type \"text\"");
                return null;
            }
            case "json_object" -> {
                refuseKey(f, "json_schema", "type \"json_object\"");
                return Grammars.jsonObject();
            }
            case "json_schema" -> {
                JsonNode spec = f.required("json_schema", "an object with name and schema");
                JsonFields s = JsonFields.object(spec, "response_format.json_schema", JSON_SCHEMA_KEYS,
                        "an object with name and schema");
                String name = s.requiredString("name");
                if (!SCHEMA_NAME.matcher(name).matches()) {
                    throw new RequestException("response_format.json_schema.name", "invalid_value",
                            "response_format.json_schema.name must be 1 to 64 letters, digits, underscores or dashes, got \""
                                    + name + "\"");
                }
                if (s.has("description") && !spec.get("description").isTextual()) {
                    throw s.invalidType("description", "a string", spec.get("description"));
                }
                s.optionalBoolean("strict");
                JsonNode schema = s.get("schema");
                if (schema != null && !schema.isObject() && !schema.isBoolean()) {
                    throw s.invalidType("schema", "a JSON Schema object", schema);
                }
                return schema(schema == null ? MAPPER.createObjectNode() : schema, "response_format.json_schema.schema");
            }
            default -> throw new RequestException("response_format.type", "invalid_value",
                    "response_format.type must be one of text, json_object, json_schema, got \"" + type + "\"");
        }
    }

    private static Grammar guided(JsonFields fields, String name) {
        JsonNode node = fields.get(name);
        switch (name) {
            case "guided_json" -> {
                JsonNode schema = node;
                if (node.isTextual()) {
                    try {
                        schema = MAPPER.readTree(node.textValue());
                    } catch (JacksonException e) {
                        throw new RequestException(name, "invalid_value", name + " is a string that is not JSON: "
                                + e.getOriginalMessage());
                    }
                }
                if (schema == null || !schema.isObject() && !schema.isBoolean()) {
                    throw fields.invalidType(name, "a JSON Schema (an object, or its JSON text)", node);
                }
                return schema(schema, name);
            }
            case "guided_choice" -> {
                if (!node.isArray() || node.isEmpty()) {
                    throw fields.invalidType(name, "a non-empty array of strings", node);
                }
                List<String> choices = new ArrayList<>();
                for (int i = 0; i < node.size(); i++) {
                    if (!node.get(i).isTextual() || node.get(i).textValue().isEmpty()) {
                        throw new RequestException(name, "invalid_value", name + "[" + i
                                + "] must be a non-empty string, got " + node.get(i));
                    }
                    choices.add(node.get(i).textValue());
                }
                return Grammars.choice(choices);
            }
            default -> {
                if (!node.isTextual()) {
                    throw fields.invalidType(name, "a regular expression (a string)", node);
                }
                try {
                    return Grammars.regex(node.textValue());
                } catch (GrammarException e) {
                    throw new RequestException(name, "invalid_regex", name + ": " + e.getMessage());
                }
            }
        }
    }

    private static Grammar schema(JsonNode schema, String param) {
        try {
            return Grammars.jsonSchema(schema);
        } catch (GrammarException e) {
            throw new RequestException(param, "invalid_schema", param + ": " + e.getMessage());
        }
    }

    private static void refuseKey(JsonFields f, String key, String because) {
        if (f.has(key)) {
            throw new RequestException(f.param(key), "invalid_value", f.param(key) + " is only for type \"json_schema\","
                    + " not " + because + "; remove it");
        }
    }
}
