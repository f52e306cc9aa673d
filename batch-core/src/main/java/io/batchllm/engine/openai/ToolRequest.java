package io.batchllm.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.engine.chat.TemplateValues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A chat request's function tools: OpenAI's {@code tools}, {@code tool_choice} and
 * {@code parallel_tool_calls}, read and checked by {@link #read}. The chat template shows the
 * functions to the model ({@link #templateTools()}); the engine parses its tool calls out of the
 * output ({@code auto}), or constrains the output to calls ({@code required}, a named function).
 * Immutable.
 *
 * @param functions the functions, in request order (at least one)
 * @param choice what the model may or must do
 * @param named the function a {@link Choice#NAMED} choice names; null otherwise
 * @param parallel whether one output may hold several calls ({@code parallel_tool_calls}, default true)
 */
public record ToolRequest(List<Function> functions, Choice choice, String named, boolean parallel) {

    /** {@code tool_choice}. */
    public enum Choice {
        /** The model answers or calls functions, as it decides. */
        AUTO,
        /** The model must call one or more functions. */
        REQUIRED,
        /** The model must call {@link #named()}. */
        NAMED
    }

    /**
     * One function tool.
     *
     * @param name the function's name
     * @param definition the tool as sent ({@code {"type": "function", "function": {...}}}), for the template
     * @param parameters the JSON Schema of its arguments, or null when the tool gives none (any object)
     */
    public record Function(String name, JsonNode definition, JsonNode parameters) {
        public Function {
            Objects.requireNonNull(name, "name");
            definition = definition.deepCopy();
            parameters = parameters == null ? null : parameters.deepCopy();
        }
    }

    public ToolRequest {
        functions = List.copyOf(functions);
        Objects.requireNonNull(choice, "choice");
        if (functions.isEmpty() || (choice == Choice.NAMED) != (named != null)) {
            throw new IllegalArgumentException("tools need functions, and a name exactly when the choice is NAMED");
        }
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final Set<String> TOOL_FIELDS = Set.of("type", "function");
    private static final Set<String> FUNCTION_FIELDS = Set.of("name", "description", "parameters", "strict");

    /** The functions a call may use: all of them, or the named one. */
    public Map<String, JsonNode> callable() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (Function f : functions) {
            if (named == null || f.name().equals(named)) {
                out.put(f.name(), f.parameters());
            }
        }
        return out;
    }

    /** The tools as the chat template's {@code tools} variable: the definitions as sent, as lists and maps. */
    public List<Object> templateTools() {
        List<Object> tools = new ArrayList<>(functions.size());
        for (Function f : functions) {
            tools.add(TemplateValues.of(f.definition()));
        }
        return tools;
    }

    /**
     * The request's tools, or null when it has none ({@code tools} absent or {@code []}) or
     * {@code tool_choice} is {@code "none"} (then the model answers in text and is not shown them).
     *
     * @throws RequestException naming the field: a malformed tool, an unknown key, a duplicate or
     *     badly formed name, a {@code tool_choice} naming no tool or given without tools
     */
    static ToolRequest read(JsonFields fields) {
        Boolean parallel = fields.optionalBoolean("parallel_tool_calls");
        JsonNode tools = fields.get("tools");
        JsonNode choice = fields.get("tool_choice");
        if (tools != null && !tools.isArray()) {
            throw fields.invalidType("tools", "an array of tools like {\"type\": \"function\", \"function\": {...}}", tools);
        }
        boolean none = choice != null && choice.isTextual() && choice.textValue().equals("none");
        if (tools == null || tools.isEmpty()) {
            if (choice != null && !none) {
                throw new RequestException("tool_choice", "invalid_value", "tool_choice is only allowed with tools; add"
                        + " tools or remove tool_choice");
            }
            return null;
        }
        List<Function> functions = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            Function f = function(tools.get(i), "tools[" + i + "]");
            if (functions.stream().anyMatch(g -> g.name().equals(f.name()))) {
                throw new RequestException("tools[" + i + "].function.name", "invalid_value", "tools[" + i
                        + "].function.name \"" + f.name() + "\" is the name of an earlier tool; names must be unique");
            }
            functions.add(f);
        }
        if (none) {
            return null;
        }
        Choice kind = Choice.AUTO;
        String named = null;
        if (choice != null) {
            if (choice.isTextual()) {
                kind = switch (choice.textValue()) {
                    case "auto" -> Choice.AUTO;
                    case "required" -> Choice.REQUIRED;
                    default -> throw new RequestException("tool_choice", "invalid_value", "tool_choice must be \"none\","
                            + " \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}, got "
                            + choice);
                };
            } else {
                named = namedChoice(choice, functions);
                kind = Choice.NAMED;
            }
        }
        return new ToolRequest(functions, kind, named, parallel == null || parallel);
    }

    private static Function function(JsonNode tool, String param) {
        JsonFields t = JsonFields.object(tool, param, TOOL_FIELDS, "a tool like {\"type\": \"function\", \"function\": {...}}");
        String type = t.requiredString("type");
        if (!type.equals("function")) {
            throw new RequestException(t.param("type"), "invalid_value", t.param("type") + " must be \"function\""
                    + " (the only kind of tool this engine calls), got \"" + type + "\"");
        }
        JsonFields f = JsonFields.object(t.required("function", "an object with name, description and parameters"),
                t.param("function"), FUNCTION_FIELDS, "an object with name, description and parameters");
        String name = f.requiredString("name");
        if (!NAME.matcher(name).matches()) {
            throw new RequestException(f.param("name"), "invalid_value", f.param("name") + " must be 1 to 64 letters,"
                    + " digits, underscores or dashes, got \"" + name + "\"");
        }
        if (f.has("description") && !f.get("description").isTextual()) {
            throw f.invalidType("description", "a string", f.get("description"));
        }
        f.optionalBoolean("strict");
        JsonNode parameters = f.get("parameters");
        if (parameters != null && !parameters.isObject()) {
            throw f.invalidType("parameters", "a JSON Schema object", parameters);
        }
        return new Function(name, tool, parameters);
    }

    private static String namedChoice(JsonNode choice, List<Function> functions) {
        JsonFields c = JsonFields.object(choice, "tool_choice", TOOL_FIELDS, "\"none\", \"auto\", \"required\" or {\"type\":"
                + " \"function\", \"function\": {\"name\": ...}}");
        String type = c.requiredString("type");
        if (!type.equals("function")) {
            throw new RequestException("tool_choice.type", "invalid_value", "tool_choice.type must be \"function\", got \""
                    + type + "\"");
        }
        JsonFields f = JsonFields.object(c.required("function", "an object with the function's name"), "tool_choice.function",
                Set.of("name"), "an object with the function's name");
        String name = f.requiredString("name");
        if (functions.stream().noneMatch(g -> g.name().equals(name))) {
            throw new RequestException("tool_choice.function.name", "invalid_value", "tool_choice names the function \""
                    + name + "\", which is not among the tools ("
                    + String.join(", ", functions.stream().map(Function::name).toList()) + ")");
        }
        return name;
    }
}
