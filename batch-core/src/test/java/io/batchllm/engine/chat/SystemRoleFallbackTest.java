package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.chat.ChatTemplateException.Reason;
import java.util.List;
import org.junit.jupiter.api.Test;

class SystemRoleFallbackTest {
    private static final List<ChatMessage> WITH_SYSTEM =
            List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi"));

    @Test
    void appliesOnlyToTemplateRefusalsThatMentionSystem() {
        assertTrue(SystemRoleFallback.appliesTo(refusal("System role not supported"), WITH_SYSTEM));
        assertFalse(SystemRoleFallback.appliesTo(refusal("Roles must alternate"), WITH_SYSTEM));
        assertFalse(SystemRoleFallback.appliesTo(refusal("ecosystems are not supported"), WITH_SYSTEM));
        assertFalse(SystemRoleFallback.appliesTo(
                new ChatTemplateException(Reason.RENDER_FAILED, "system broke"), WITH_SYSTEM));
        assertFalse(SystemRoleFallback.appliesTo(refusal("System role not supported"),
                List.of(new ChatMessage("user", "Hi"))));
    }

    @Test
    void systemTextGoesInFrontOfTheNextUserMessage() {
        List<ChatMessage> folded = SystemRoleFallback.foldIntoUserTurns(List.of(
                new ChatMessage("system", "One."), new ChatMessage("system", "Two."), new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", "Hello"), new ChatMessage("user", "Bye")));

        assertEquals(List.of(new ChatMessage("user", "One.\nTwo.\nHi"), new ChatMessage("assistant", "Hello"),
                new ChatMessage("user", "Bye")), folded);
    }

    @Test
    void systemTextWithNoUserMessageAfterItBecomesAUserMessage() {
        List<ChatMessage> folded = SystemRoleFallback.foldIntoUserTurns(List.of(
                new ChatMessage("user", "Hi"), new ChatMessage("system", "Late."), new ChatMessage("assistant", "A")));

        assertEquals(List.of(new ChatMessage("user", "Hi"), new ChatMessage("user", "Late."),
                new ChatMessage("assistant", "A")), folded);
    }

    private static ChatTemplateException refusal(String message) {
        return new ChatTemplateException(Reason.REJECTED_BY_TEMPLATE, "chat template rejected the conversation: " + message);
    }
}
