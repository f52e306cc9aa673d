package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.chat.ChatTemplateException.Reason;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChatTemplatesTest {

    @Test
    void metadataWithATemplateGivesTheCompiledTemplate() {
        Optional<ChatTemplate> template = ChatTemplates.fromMetadata(Map.of(
                "general.architecture", "llama",
                "tokenizer.chat_template", "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"));

        assertTrue(template.isPresent());
        assertEquals("<user>hi", template.get().render(List.of(new ChatMessage("user", "hi")), true, "", ""));
    }

    @Test
    void metadataWithoutATemplateGivesNothing() {
        assertTrue(ChatTemplates.fromMetadata(Map.of("general.architecture", "llama")).isEmpty());
        assertTrue(ChatTemplates.fromMetadata(Map.of("tokenizer.chat_template", "  ")).isEmpty());
    }

    @Test
    void templateThatIsNotAStringIsRefusedNamingTheKey() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplates.fromMetadata(Map.of("tokenizer.chat_template", 42L)));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("'tokenizer.chat_template' must be a string"), e.getMessage());
    }

    @Test
    void brokenTemplateInMetadataFailsFast() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplates.fromMetadata(Map.of("tokenizer.chat_template", "{% if x %}")));

        assertEquals(Reason.SYNTAX, e.reason());
    }

    @Test
    void missingTemplateErrorTellsTheCallerWhatToDoInstead() {
        ChatTemplateException e = ChatTemplates.noChatTemplate("tinyllama-base");

        assertEquals(Reason.NO_TEMPLATE, e.reason());
        assertEquals("model tinyllama-base has no chat template (tokenizer.chat_template is missing from its GGUF);"
                + " send /v1/completions requests with a prompt instead, or use a model whose GGUF carries a chat"
                + " template", e.getMessage());
    }
}
