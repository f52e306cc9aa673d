package io.batchllm.engine.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Which shared chat templates write which tool-call format, and how each format's outputs parse. */
class ToolFormatTest {
    private static final Set<String> FUNCTIONS = Set.of("get_weather", "get_time");

    @Test
    void theFormatIsFoundFromTheTemplatesOfTheSharedSet() throws IOException {
        Map<String, String> found = new TreeMap<>();
        try (var files = Files.list(SharedData.file("chat-templates"))) {
            for (var f : files.filter(p -> p.toString().endsWith(".jinja")).toList()) {
                found.put(f.getFileName().toString(), ToolFormat.detect(Files.readString(f)).map(Enum::name).orElse("-"));
            }
        }
        assertEquals("HERMES", found.get("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja"));
        assertEquals("HERMES", found.get("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja"));
        assertEquals("HERMES", found.get("Qwen-Qwen2.5-7B-Instruct.jinja"));
        assertEquals("LLAMA3_JSON", found.get("meta-llama-Llama-3.1-8B-Instruct.jinja"));
        assertEquals("LLAMA3_JSON", found.get("meta-llama-Llama-3.2-3B-Instruct.jinja"));
        assertEquals("LLAMA3_JSON", found.get("meta-llama-Llama-3.3-70B-Instruct.jinja"));
        assertEquals("MISTRAL", found.get("mistralai-Mistral-Nemo-Instruct-2407.jinja"));
        for (String other : List.of("google-gemma-2-2b-it.jinja", "microsoft-Phi-3.5-mini-instruct.jinja",
                "CohereForAI-c4ai-command-r-plus-tool_use.jinja", "meetkai-functionary-medium-v3.1.jinja",
                "fireworks-ai-llama-3-firefunction-v2.jinja", "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja")) {
            assertEquals("-", found.get(other), other + " writes no format this engine parses");
        }
    }

    private static ToolFormat.Parsed parsed(ToolFormat format, String output) {
        return format.parse(output, FUNCTIONS).orElseThrow(() -> new AssertionError("no calls in " + output));
    }

    @Test
    void hermesCallsAreTagBlocksAfterOptionalText() {
        ToolFormat.Parsed p = parsed(ToolFormat.HERMES, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\","
                + " \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\":"
                + " \"get_time\", \"arguments\": \"{\\\"zone\\\": \\\"CET\\\"}\"}\n</tool_call>");
        assertEquals("Let me check.", p.content());
        assertEquals(List.of(new ToolFormat.Call("get_weather", "{\"city\":\"Paris\",\"days\":2}"),
                new ToolFormat.Call("get_time", "{\"zone\":\"CET\"}")), p.calls());
        assertEquals("", parsed(ToolFormat.HERMES, "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}").content(),
                "a last block cut before its closing tag still counts");
        for (String text : List.of("The weather is fine.", "<tool_call>\n{\"name\": \"send_mail\", \"arguments\": {}}\n"
                + "</tool_call>", "<tool_call>\n{\"name\": \"get_time\", \"arguments\": [1]}\n</tool_call>",
                "<tool_call>\n{\"name\": \"get_time\"\n</tool_call>", "<tool_call>\n{\"name\": \"get_time\", \"arguments\":"
                + " {}}\n</tool_call> and then some text")) {
            assertEquals(Optional.empty(), ToolFormat.HERMES.parse(text, FUNCTIONS), text);
        }
    }

    @Test
    void llamaCallsAreTheWholeOutputAsOneJsonObject() {
        assertEquals(List.of(new ToolFormat.Call("get_weather", "{\"city\":\"Oslo\"}")), parsed(ToolFormat.LLAMA3_JSON,
                " {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}").calls());
        assertEquals(List.of(new ToolFormat.Call("get_time", "{}")), parsed(ToolFormat.LLAMA3_JSON,
                "<|python_tag|>{\"name\": \"get_time\", \"arguments\": {}}").calls());
        for (String text : List.of("It is sunny.", "{\"name\": \"get_time\", \"parameters\": {}} ok",
                "{\"city\": \"Oslo\"}")) {
            assertEquals(Optional.empty(), ToolFormat.LLAMA3_JSON.parse(text, FUNCTIONS), text);
        }
    }

    @Test
    void mistralCallsAreAJsonArrayAfterTheMarker() {
        ToolFormat.Parsed p = parsed(ToolFormat.MISTRAL, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\":"
                + " {\"city\": \"Rome\"}, \"id\": \"abcDEF123\"}, {\"name\": \"get_time\", \"arguments\": {}}]");
        assertEquals(List.of(new ToolFormat.Call("get_weather", "{\"city\":\"Rome\"}"),
                new ToolFormat.Call("get_time", "{}")), p.calls());
        assertTrue(ToolFormat.MISTRAL.parse("[{\"name\": \"get_time\", \"arguments\": {}}]", FUNCTIONS).isPresent(),
                "where [TOOL_CALLS] is a control token it has no text");
        assertEquals(Optional.empty(), ToolFormat.MISTRAL.parse("[TOOL_CALLS][]", FUNCTIONS));
        assertEquals(Optional.empty(), ToolFormat.MISTRAL.parse("[1, 2, 3]", FUNCTIONS));
    }
}
