package io.batchllm.engine.chat;

import java.util.Objects;

/**
 * One message of a chat conversation, as a chat template sees it.
 *
 * @param role {@code system}, {@code developer}, {@code user}, {@code assistant} or {@code tool}
 * @param content the message text (multi-part content is joined before it gets here)
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
