package io.batchllm.engine.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * What the reference engine (llama.cpp) does for templates without a system role (Gemma 2 raises
 * "System role not supported"): instead of refusing the conversation, it puts the system text in
 * front of the next user message, separated by a newline, and renders without system messages.
 * {@link ChatTemplate} decides when a template refuses a system role; this class does the folding.
 *
 * <p>Several system messages before one user turn are joined with newlines; system text with no
 * user message after it (or followed by an assistant turn) becomes a user message of its own.
 */
final class SystemRoleFallback {
    private static final String SYSTEM = "system";
    private static final String USER = "user";

    private SystemRoleFallback() {
    }

    static boolean hasSystemMessage(List<ChatMessage> messages) {
        return messages.stream().anyMatch(m -> m.role().equals(SYSTEM));
    }

    /** @return the conversation without system messages, their text moved into user turns */
    static List<ChatMessage> foldIntoUserTurns(List<ChatMessage> messages) {
        List<ChatMessage> folded = new ArrayList<>(messages.size());
        StringBuilder pending = new StringBuilder();
        for (ChatMessage message : messages) {
            if (message.role().equals(SYSTEM)) {
                append(pending, message.content());
            } else if (message.role().equals(USER)) {
                if (!pending.isEmpty()) {
                    append(pending, message.content());
                    message = new ChatMessage(USER, pending.toString(), message.name(), message.toolCallId(),
                            message.toolCalls());
                    pending.setLength(0);
                }
                folded.add(message);
            } else {
                flush(pending, folded);
                folded.add(message);
            }
        }
        flush(pending, folded);
        return folded;
    }

    private static void append(StringBuilder pending, String text) {
        String content = text == null ? "" : text;
        if (!pending.isEmpty() && !content.isEmpty()) {
            pending.append('\n');
        }
        pending.append(content);
    }

    private static void flush(StringBuilder pending, List<ChatMessage> folded) {
        if (!pending.isEmpty()) {
            folded.add(new ChatMessage(USER, pending.toString()));
            pending.setLength(0);
        }
    }
}
