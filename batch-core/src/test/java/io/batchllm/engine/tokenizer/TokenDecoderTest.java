package io.batchllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenDecoderTest {

    private final Tokenizer spm = VocabFixtures.tokenizer("llama-spm");

    private int byteToken(int b) {
        return spm.tokenId(String.format("<0x%02X>", b));
    }

    @Test
    void holdsBackAnEmojiSplitAcrossByteTokensUntilItIsComplete() {
        TokenDecoder d = spm.newDecoder();
        assertEquals("", d.append(byteToken(0xF0)));
        assertEquals("", d.append(byteToken(0x9F)));
        assertEquals("", d.append(byteToken(0x98)));
        assertEquals("😁", d.append(byteToken(0x81)));
        assertEquals("", d.flush());
    }

    @Test
    void emitsTextBeforeAnUnfinishedCjkCharacterAndTheCharacterOnceComplete() {
        TokenDecoder d = spm.newDecoder();
        assertEquals(" Hello", d.append(spm.tokenId("▁Hello")));
        assertEquals("", d.append(byteToken(0xE6)));
        assertEquals("", d.append(byteToken(0x88)));
        assertEquals("我", d.append(byteToken(0x91)));
    }

    @Test
    void byteLevelPiecesOfEmojiAndCjkStreamWithoutReplacementCharacters() {
        Tokenizer gpt2 = VocabFixtures.tokenizer("gpt-2");
        String text = " 😶‍🌫️ 我想在apple工作 🦙🦙";
        int[] ids = gpt2.encode(text, false, false);
        TokenDecoder d = gpt2.newDecoder();
        List<String> chunks = new ArrayList<>();
        for (int id : ids) {
            chunks.add(d.append(id));
        }
        chunks.add(d.flush());
        assertTrue(chunks.contains(""), "some token ended mid-character, so something was held back: " + chunks);
        assertTrue(chunks.stream().noneMatch(c -> c.contains("\uFFFD")), chunks.toString());
        assertEquals(text, String.join("", chunks));
    }

    @Test
    void flushGivesAReplacementCharacterForAnUnfinishedSequence() {
        TokenDecoder d = spm.newDecoder();
        assertEquals("", d.append(byteToken(0xE6)));
        assertEquals("\uFFFD", d.flush());
        assertEquals("", d.flush(), "the buffer is empty after a flush");
        assertEquals(" Hello", d.append(spm.tokenId("▁Hello")), "and decoding carries on normally");
    }

    @Test
    void bytesThatCanNeverFormACharacterAreNotHeldBack() {
        TokenDecoder d = spm.newDecoder();
        assertEquals("\uFFFD", d.append(byteToken(0xFF)));
        assertEquals("\uFFFD", d.append(byteToken(0x80)), "a stray continuation byte");
        assertEquals("", d.append(byteToken(0xE6)));
        assertEquals("\uFFFDa", d.append(byteToken('a')), "a lead byte followed by ASCII is invalid at once");
    }

    @Test
    void controlTokensRenderAsNothingAndContinuationsKeepTheirLeadingSpace() {
        TokenDecoder d = spm.newDecoder();
        assertEquals("", d.append(spm.bos()));
        assertEquals(" Hello", d.append(spm.tokenId("▁Hello")));
        assertEquals("", d.append(spm.eos()));
        assertFalse(d.flush().contains("</s>"));
    }
}
