package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every (template, conversation) of shared/chat-templates/expected.jsonl renders exactly as the
 * reference engine (llama.cpp) rendered it.
 */
class ChatTemplateReferenceRenderingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Arguments> referenceRenderings() throws IOException {
        List<String> lines = Files.readAllLines(ChatTemplatesTestData.directory().resolve("expected.jsonl")).stream()
                .filter(line -> !line.isBlank())
                .toList();
        assertTrue(lines.size() >= 30, "expected.jsonl should hold 30 cases, found " + lines.size());
        List<Arguments> cases = new ArrayList<>();
        for (String line : lines) {
            JsonNode node = JSON.readTree(line);
            String name = node.get("template").asText() + " / " + node.path("conversation").asText("?");
            cases.add(Arguments.of(name, node));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("referenceRenderings")
    void rendersExactlyAsTheReferenceEngine(String name, JsonNode referenceCase) {
        ChatTemplate template = ChatTemplate.compile(templateSource(referenceCase.get("template").asText()));
        List<ChatMessage> messages = new ArrayList<>();
        referenceCase.get("messages").forEach(m -> messages.add(
                new ChatMessage(m.get("role").asText(), m.get("content").asText())));

        String rendered = template.render(messages, referenceCase.get("add_generation_prompt").asBoolean(),
                referenceCase.get("bos_token").asText(), referenceCase.get("eos_token").asText());

        assertEquals(referenceCase.get("expected").asText(), rendered, name);
    }

    /** The "template" field names a file next to expected.jsonl, or is the Jinja source itself. */
    private static String templateSource(String field) {
        if (field.endsWith(".jinja") && Files.isRegularFile(ChatTemplatesTestData.directory().resolve(field))) {
            return ChatTemplatesTestData.template(field);
        }
        return field;
    }
}
