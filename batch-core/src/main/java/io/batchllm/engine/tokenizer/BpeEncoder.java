package io.batchllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2-style byte-level BPE as llama.cpp's {@code llm_tokenizer_bpe_session} does it: the
 * {@link PreTokenizer} cuts the text into words; each word's UTF-8 bytes become one symbol per byte,
 * and the adjacent pair with the lowest merge rank is merged until no pair has a rank (ties:
 * leftmost first). Each final symbol is looked up as a token; one that is not a token (only in a
 * malformed vocabulary) is spelled with single-character tokens where they exist, as upstream does.
 *
 * <p>A heap of candidate pairs keeps each word at O(n log n). Immutable and thread safe.
 */
final class BpeEncoder {
    private final Vocabulary vocab;
    private final BpeMerges merges;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    /** Merge symbol of each byte's one-character spelling, or -1 if that character is in no merge. */
    private final int[] byteSymbols = new int[256];
    /** Token id of each byte's one-character spelling, or NONE. */
    private final int[] byteTokens = new int[256];
    /** Token id of each merge symbol's text, or NONE. */
    private final int[] symbolTokens;

    BpeEncoder(Vocabulary vocab, BpeMerges merges, PreTokenizer preTokenizer, boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(ByteLevel.charOf(b));
            byteSymbols[b] = merges.symbolId(s);
            byteTokens[b] = vocab.id(s);
        }
        symbolTokens = new int[merges.symbolCount()];
        for (int i = 0; i < symbolTokens.length; i++) {
            symbolTokens[i] = vocab.id(merges.symbol(i));
        }
    }

    void encode(String text, IntArrayBuilder out) {
        for (String word : preTokenizer.split(text)) {
            encodeWord(word.getBytes(StandardCharsets.UTF_8), out);
        }
    }

    private void encodeWord(byte[] bytes, IntArrayBuilder out) {
        int n = bytes.length;
        if (ignoreMerges) {
            int whole = vocab.id(ByteLevel.encode(bytes, 0, n));
            if (whole != Vocabulary.NONE) {
                out.add(whole);
                return;
            }
        }
        int[] sym = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = byteSymbols[bytes[i] & 0xFF];
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        BigramQueue queue = new BigramQueue();
        for (int i = 1; i < n; i++) {
            addBigram(sym, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            queue.poll();
            int l = queue.polledLeft;
            int r = queue.polledRight;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != queue.polledSize) {
                continue; // stale: a side has been merged into another symbol since it was queued
            }
            sym[l] = (int) merges.find(sym[l], sym[r]);
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                addBigram(sym, len, prev[l], l, queue);
            }
            if (next[l] >= 0) {
                addBigram(sym, len, l, next[l], queue);
            }
        }
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
            int token = len[i] == 1 ? byteTokens[bytes[i] & 0xFF] : symbolTokens[sym[i]];
            if (token != Vocabulary.NONE) {
                out.add(token);
            } else {
                spellWithCharacters(ByteLevel.encode(bytes, i, i + len[i]), out);
            }
        }
    }

    private void addBigram(int[] sym, int[] len, int l, int r, BigramQueue queue) {
        if (sym[l] < 0 || sym[r] < 0) {
            return;
        }
        long found = merges.find(sym[l], sym[r]);
        if (found < 0) {
            return;
        }
        queue.push(found >>> 32, l, r, len[l] + len[r]);
    }

    /**
     * llama.cpp's fallback for a symbol that is not a token: it looks up each UTF-8 byte of the symbol's
     * spelling as a one-byte string, which can only succeed for ASCII characters; others are dropped.
     */
    private void spellWithCharacters(String spelling, IntArrayBuilder out) {
        for (int k = 0; k < spelling.length(); k++) {
            char c = spelling.charAt(k);
            int id = c < 0x80 ? vocab.id(String.valueOf(c)) : Vocabulary.NONE;
            if (id != Vocabulary.NONE) {
                out.add(id);
            }
        }
    }
}
