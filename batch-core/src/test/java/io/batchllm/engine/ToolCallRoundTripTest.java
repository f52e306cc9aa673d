package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.chat.ChatTemplates;
import io.batchllm.engine.chat.PythonJinja;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgmlType;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.SyntheticModel;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.InferenceResult;
import io.batchllm.testing.JsonSchemaOracle;
import io.batchllm.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tool-call round trip per format, on random-weight models that carry the real chat templates
 * (Hermes 2 Pro, Qwen 2.5: {@code <tool_call>}; Llama 3.1: JSON; Mistral Nemo: {@code [TOOL_CALLS]}):
 * with {@code tool_choice: required} the output is parsed into {@code tool_calls} whose arguments
 * validate against the function's parameters (networknt judges), a named function gets only calls of
 * it, and the calls and their results sent back in the next request are rendered as Python's jinja2
 * renders that conversation (the prompt's token count matches).
 */
class ToolCallRoundTripTest {
    private static final String MODEL = "tooly";
    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12,
              "description": "The city"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
              "description": "Unit"}}, "required": ["city"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "get_time", "description": "The time in a zone",
              "parameters": {"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"],
              "description": "Time zone"}}, "required": ["zone"], "additionalProperties": false}}}]""";

    @TempDir
    static Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", "Qwen-Qwen2.5-7B-Instruct.jinja",
            "meta-llama-Llama-3.1-8B-Instruct.jinja", "mistralai-Mistral-Nemo-Instruct-2407.jinja"})
    void forcedCallsParseAndValidateAndComeBackThroughTheTemplateAsJinja2RendersThem(String templateName)
            throws Exception {
        String template = Files.readString(SharedData.file("chat-templates/" + templateName));
        Path file = dir.resolve(templateName + ".gguf");
        SyntheticModel.builder().name(MODEL).dim(64).layers(2).heads(4).kvHeads(2).ffnHidden(172).vocabSize(512)
                .contextLength(4096).weightType(GgmlType.F32).seed(5).chatTemplate(template).build().write(file);
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(file)) {
            tokenizer = Tokenizer.fromGguf(f);
        }
        Clock clock = Clock.fixed(LocalDateTime.parse(PythonJinja.NOW).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        ArrayNode tools = (ArrayNode) Bodies.read(TOOLS);
        Map<String, JsonNode> parameters = Map.of("get_weather", tools.get(0).at("/function/parameters"),
                "get_time", tools.get(1).at("/function/parameters"));
        boolean mistral = templateName.startsWith("mistral");
        try (LocalEngine engine = LocalEngine.builder(MODEL, CpuExecutor.load(file, 2), tokenizer)
                .chatTemplate(io.batchllm.engine.chat.ChatTemplate.compile(template, clock)).start()) {
            ObjectNode first = Bodies.chat(MODEL, "What is the weather in Paris, and the time?").put("temperature", 0.8)
                    .put("seed", 3).put("tool_choice", "required");
            first.set("tools", tools);
            JsonNode message = choice(engine, first).get("message");
            assertTrue(message.get("content").isNull(), message.toString());
            ArrayNode calls = (ArrayNode) message.get("tool_calls");
            assertTrue(!calls.isEmpty(), message.toString());
            for (JsonNode call : calls) {
                String name = call.at("/function/name").asText();
                assertTrue(parameters.containsKey(name), call.toString());
                assertEquals("function", call.get("type").asText());
                assertTrue(Pattern.matches(mistral ? "[A-Za-z0-9]{9}" : "call_[A-Za-z0-9]{24}", call.get("id").asText()));
                assertEquals(List.of(), JsonSchemaOracle.errors(parameters.get(name),
                        call.at("/function/arguments").asText()), call.toString());
            }

            ObjectNode named = first.deepCopy().put("seed", 4);
            named.putObject("tool_choice").put("type", "function").putObject("function").put("name", "get_time");
            for (JsonNode call : choice(engine, named).at("/message/tool_calls")) {
                assertEquals("get_time", call.at("/function/name").asText());
            }

            ObjectNode second = Bodies.chat(MODEL, "What is the weather in Paris, and the time?").put("temperature", 0)
                    .put("max_tokens", 8);
            second.set("tools", tools);
            ArrayNode messages = (ArrayNode) second.get("messages");
            messages.addObject().put("role", "assistant").putNull("content").set("tool_calls", calls);
            for (JsonNode call : calls) {
                messages.addObject().put("role", "tool").put("tool_call_id", call.get("id").asText()).put("content",
                        "{\"result\": 22}");
            }
            InferenceResult answer = engine.submit(Endpoint.CHAT_COMPLETIONS, Bodies.write(second)).get(120,
                    TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode(), answer.body());
            String expected = jinja2(templateName, template, messages, tools, tokenizer);
            assertEquals(tokenizer.encode(expected, true, true).length,
                    Bodies.read(answer.body()).at("/usage/prompt_tokens").asInt(), "the prompt is jinja2's:\n" + expected);
        }
    }

    private static JsonNode choice(LocalEngine engine, ObjectNode body) throws Exception {
        InferenceResult r = engine.submit(Endpoint.CHAT_COMPLETIONS, Bodies.write(body)).get(120, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = Bodies.read(r.body()).at("/choices/0");
        assertEquals("tool_calls", choice.get("finish_reason").asText(), choice.toString());
        return choice;
    }

    /** The conversation as jinja2 renders it, the calls' arguments as objects (as vLLM passes them). */
    private static String jinja2(String name, String template, ArrayNode messages, ArrayNode tools, Tokenizer tokenizer)
            throws Exception {
        ArrayNode dicts = messages.deepCopy();
        for (JsonNode m : dicts) {
            for (JsonNode call : m.path("tool_calls")) {
                ObjectNode function = (ObjectNode) call.get("function");
                function.set("arguments", Bodies.read(function.get("arguments").asText()));
            }
        }
        ObjectNode request = PythonJinja.request(Map.of(name, template));
        ObjectNode c = ((ArrayNode) request.get("cases")).addObject().put("template", name);
        c.set("messages", dicts);
        c.put("add_generation_prompt", true).put("bos_token", tokenizer.tokenText(tokenizer.bos()))
                .put("eos_token", tokenizer.tokenText(tokenizer.eos()));
        c.putObject("variables").set("tools", tools);
        PythonJinja.Result result = PythonJinja.run(request).getFirst();
        assertTrue(!result.failed(), result.error());
        return result.text();
    }

}
