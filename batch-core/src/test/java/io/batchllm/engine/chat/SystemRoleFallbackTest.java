package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SystemRoleFallbackTest {
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
}
