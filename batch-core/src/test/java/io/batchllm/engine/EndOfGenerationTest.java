package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.batchllm.engine.chat.ChatTemplate;
import io.batchllm.engine.chat.ChatTemplates;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End-of-generation tokens as the model defines them, on llama.cpp's Phi-3 vocabulary (whose control
 * tokens include {@code <|end|>}, {@code <|endoftext|>}, {@code <|assistant|>} and placeholders): the
 * vocabulary's own, and the control token a chat template writes after an assistant message.
 */
class EndOfGenerationTest {
    private static Tokenizer phi3;

    @BeforeAll
    static void loadVocabulary() {
        try (GgufFile f = GgufFile.open(SharedData.file("tokenizer-vectors/ggml-vocab-phi-3.gguf"))) {
            phi3 = Tokenizer.fromGguf(f);
        }
    }

    private static ChatTemplate template(String source) {
        return ChatTemplate.compile(source, Clock.systemUTC());
    }

    @Test
    void phi35sTemplateEndsAnAssistantTurnWithEnd() throws IOException {
        ChatTemplate phi35 = template(Files.readString(SharedData.file(
                "chat-templates/microsoft-Phi-3.5-mini-instruct.jinja")));
        assertEquals(phi3.tokenId("<|end|>"), EndOfGeneration.templateEndMarker(phi35, phi3));
        // <|endoftext|> (EOS) and <|end|> (llama.cpp's EOT by text) end generation in any case
        assertArrayEquals(new int[] {32000, 32007}, EndOfGeneration.tokens(phi3, phi35));
    }

    @Test
    void aTemplatesOwnEndMarkerEndsGenerationThoughTheVocabularyDoesNotMarkIt() {
        ChatTemplate custom = template("{% for m in messages %}<|user|>{{ m['content'] }}<|placeholder6|>\n"
                + "{% endfor %}");
        assertEquals(32009, EndOfGeneration.templateEndMarker(custom, phi3));
        assertArrayEquals(new int[] {32000, 32007, 32009}, EndOfGeneration.tokens(phi3, custom));
    }

    @Test
    void plainTextAfterTheContentOrARefusedProbeAddsNothing() {
        // ChatML's <|im_end|> is not a token of this vocabulary: it is text here
        assertEquals(-1, EndOfGeneration.templateEndMarker(ChatTemplates.chatMlFallback(Clock.systemUTC()), phi3));
        ChatTemplate refusing = template("{{ raise_exception('no assistant messages') }}");
        assertEquals(-1, EndOfGeneration.templateEndMarker(refusing, phi3));
        assertArrayEquals(new int[] {32000, 32007}, EndOfGeneration.tokens(phi3, null));
    }
}
