package io.batchllm.engine;

import io.batchllm.engine.chat.ChatMessage;
import io.batchllm.engine.chat.ChatTemplate;
import io.batchllm.engine.chat.ChatTemplateException;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The tokens at which a choice ends (unless the request says {@code ignore_eos}), as the model defines
 * them: the vocabulary's end-of-generation tokens ({@link Tokenizer#isEndOfGeneration}: EOS, EOT, EOM
 * and the end markers llama.cpp recognises by text), plus the control token the chat template writes
 * right after an assistant message, which ends a turn in this model's own chat format even when the
 * vocabulary does not mark it (found by rendering a probe conversation).
 */
final class EndOfGeneration {
    /** Assistant content no real text contains, to find in the probe's rendering. */
    private static final String PROBE = "\u0001batchllm-end-probe\u0001";

    private EndOfGeneration() {
    }

    /** Every end token of the model, in increasing id order. */
    static int[] tokens(Tokenizer tokenizer, ChatTemplate template) {
        int marker = template == null ? -1 : templateEndMarker(template, tokenizer);
        return IntStream.range(0, tokenizer.vocabSize())
                .filter(t -> tokenizer.isEndOfGeneration(t) || t == marker).toArray();
    }

    /**
     * The control token that the template writes first after an assistant message's content
     * ({@code <|im_end|>}, {@code <end_of_turn>}, {@code <|eot_id|>}, {@code <|end|>}, …), or -1 when
     * it writes none there, or refuses the probe conversation.
     */
    static int templateEndMarker(ChatTemplate template, Tokenizer tokenizer) {
        String rendered;
        try {
            rendered = template.render(List.of(new ChatMessage("user", "Hi"), new ChatMessage("assistant", PROBE)),
                    false, text(tokenizer, tokenizer.bos()), text(tokenizer, tokenizer.eos()));
        } catch (ChatTemplateException e) {
            return -1;
        }
        int at = rendered.indexOf(PROBE);
        if (at < 0) {
            return -1;
        }
        String tail = rendered.substring(at + PROBE.length()).stripLeading();
        if (tail.isEmpty()) {
            return -1;
        }
        int[] tokens = tokenizer.encode(tail, false, true);
        return tokens.length > 0 && tokenizer.isControl(tokens[0]) ? tokens[0] : -1;
    }

    private static String text(Tokenizer tokenizer, int token) {
        return token >= 0 ? tokenizer.tokenText(token) : "";
    }
}
