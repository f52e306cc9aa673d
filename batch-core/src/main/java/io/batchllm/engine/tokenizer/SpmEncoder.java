package io.batchllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece-style BPE as llama.cpp's {@code llm_tokenizer_spm_session} does it: start from one
 * symbol per code point, repeatedly merge the adjacent pair whose concatenation is the vocabulary
 * token with the highest score (ties: leftmost first), and spell any final symbol that is not a token
 * as byte tokens {@code <0xNN>}. The caller has already replaced spaces with {@code ▁}.
 *
 * <p>Each round pops the best candidate from a heap and re-queues only the two new neighbour pairs,
 * so a text of n code points costs O(n log n), not a rescan per merge. Candidates made stale by an
 * earlier merge are recognised by a changed symbol length and skipped. Immutable and thread safe:
 * all per-call state lives in {@link #encode}.
 */
final class SpmEncoder {
    private final Vocabulary vocab;
    /** Token for each byte: {@code <0xNN>}, else the one-character token (llama.cpp's fallback), else NONE. */
    private final int[] byteTokens = new int[256];

    SpmEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id == Vocabulary.NONE && b < 0x80) {
                id = vocab.id(String.valueOf((char) b));
            }
            byteTokens[b] = id;
        }
    }

    void encode(String text, IntArrayBuilder out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            int cp = text.codePointAt(pos);
            start[i] = pos;
            len[i] = Character.charCount(cp);
            pos += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        BigramQueue queue = new BigramQueue();
        for (int i = 1; i < n; i++) {
            tryAddBigram(text, start, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            queue.poll();
            int l = queue.polledLeft;
            int r = queue.polledRight;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != queue.polledSize) {
                continue; // one side was merged into something else since this pair was queued
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                tryAddBigram(text, start, len, prev[l], l, queue);
            }
            if (next[l] >= 0) {
                tryAddBigram(text, start, len, l, next[l], queue);
            }
        }

        for (int i = 0; i != -1; i = next[i]) {
            String piece = text.substring(start[i], start[i] + len[i]);
            int id = vocab.id(piece);
            if (id != Vocabulary.NONE) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    out.add(byteToken(b & 0xFF, piece));
                }
            }
        }
    }

    private void tryAddBigram(String text, int[] start, int[] len, int l, int r, BigramQueue queue) {
        int size = len[l] + len[r];
        int id = vocab.id(text.substring(start[l], start[l] + size));
        if (id == Vocabulary.NONE) {
            return;
        }
        queue.push(-(long) sortableBits(vocab.score(id)), l, r, size);
    }

    /** An int that orders like the float (for non-NaN values); negated above so higher scores pop first. */
    private static int sortableBits(float f) {
        int bits = Float.floatToIntBits(f);
        return bits ^ ((bits >> 31) & 0x7FFFFFFF);
    }

    private int byteToken(int b, String piece) {
        int id = byteTokens[b];
        if (id == Vocabulary.NONE) {
            // llama.cpp aborts here (std::map::at); name what the vocabulary lacks instead.
            throw new IllegalArgumentException(String.format(
                    "cannot encode '%s': the vocabulary has no byte token <0x%02X> for byte fallback", piece, b));
        }
        return id;
    }
}
