package io.batchllm.engine.grammar;

/** An immutable set of byte values 0 to 255: the label of one NFA edge. */
final class ByteSet {
    private final long[] words;

    private ByteSet(long[] words) {
        this.words = words;
    }

    /** The bytes {@code lo} to {@code hi}, both included. */
    static ByteSet range(int lo, int hi) {
        if (lo < 0 || hi > 255 || lo > hi) {
            throw new IllegalArgumentException("byte range " + lo + ".." + hi + " is not within 0..255");
        }
        long[] w = new long[4];
        for (int b = lo; b <= hi; b++) {
            w[b >>> 6] |= 1L << (b & 63);
        }
        return new ByteSet(w);
    }

    /** The one byte {@code b} (0 to 255). */
    static ByteSet of(int b) {
        return range(b, b);
    }

    boolean contains(int b) {
        return (words[b >>> 6] & 1L << (b & 63)) != 0;
    }

    ByteSet union(ByteSet other) {
        long[] w = new long[4];
        for (int i = 0; i < 4; i++) {
            w[i] = words[i] | other.words[i];
        }
        return new ByteSet(w);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ByteSet s && java.util.Arrays.equals(s.words, words);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int b = 0; b < 256; b++) {
            if (contains(b)) {
                int end = b;
                while (end < 255 && contains(end + 1)) {
                    end++;
                }
                sb.append(String.format("%02x", b));
                if (end > b) {
                    sb.append('-').append(String.format("%02x", end));
                }
                sb.append(' ');
                b = end;
            }
        }
        return sb.toString().trim() + "]";
    }
}
