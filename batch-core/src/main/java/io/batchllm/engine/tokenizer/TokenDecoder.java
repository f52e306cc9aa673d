package io.batchllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns the tokens of one generated sequence into text as they arrive. A character can be split
 * across tokens (byte-fallback tokens {@code <0xE2><0x9C><0x85>}, or byte-level pieces of an emoji);
 * {@link #append} returns only complete UTF-8 and keeps the unfinished tail until the next token
 * completes it, so streamed text never shows half a character as U+FFFD.
 *
 * <p>Pieces are concatenated as llama-server streams them: control tokens render as nothing, and no
 * leading space is removed (a continuation's first piece keeps its space). Bytes that can never form
 * a valid character become U+FFFD. One instance per sequence; not thread safe.
 */
public final class TokenDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int length;

    TokenDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds one token and returns the text it completes (possibly empty).
     *
     * @throws IllegalArgumentException if the token id is outside the vocabulary
     */
    public String append(int token) {
        byte[] piece = tokenizer.piece(token, false);
        if (length + piece.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, length + piece.length));
        }
        System.arraycopy(piece, 0, pending, length, piece.length);
        length += piece.length;
        int complete = length - incompleteTail();
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, length - complete);
        length -= complete;
        return text;
    }

    /** Returns whatever is still held back (an unfinished character, as U+FFFD) and empties the buffer. */
    public String flush() {
        String text = new String(pending, 0, length, StandardCharsets.UTF_8);
        length = 0;
        return text;
    }

    /**
     * How many trailing bytes are the start of a UTF-8 sequence that needs more bytes. Only the last
     * lead byte within 3 bytes of the end can be waiting; anything else is complete or already invalid.
     */
    private int incompleteTail() {
        for (int back = 1; back <= Math.min(3, length); back++) {
            int b = pending[length - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead
            }
            int needed = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
