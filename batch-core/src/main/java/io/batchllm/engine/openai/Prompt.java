package io.batchllm.engine.openai;

import io.batchllm.engine.chat.ChatMessage;
import java.util.Arrays;
import java.util.List;

/** What the model reads: a conversation (chat) or a raw prompt as text or token ids (completions). */
public sealed interface Prompt {

    /**
     * A chat conversation, roles already normalized ({@code developer} became {@code system}).
     *
     * @param messages at least one message
     */
    record Chat(List<ChatMessage> messages) implements Prompt {
        public Chat {
            messages = List.copyOf(messages);
        }
    }

    /**
     * A completions prompt given as text; it may be empty.
     *
     * @param text the prompt text, tokenized by the engine
     */
    record Text(String text) implements Prompt {
        public Text {
            java.util.Objects.requireNonNull(text, "text");
        }
    }

    /**
     * A completions prompt given as token ids (checked against the vocabulary by
     * {@link GenerationRequest#checkVocabulary(int)}).
     *
     * @param ids at least one token id, each >= 0; copied in and out
     */
    record Tokens(int[] ids) implements Prompt {
        public Tokens {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tokens other && Arrays.equals(ids, other.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }

        @Override
        public String toString() {
            return "Tokens" + Arrays.toString(ids);
        }
    }
}
