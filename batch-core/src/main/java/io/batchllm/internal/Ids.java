package io.batchllm.internal;

import java.security.SecureRandom;

/** Object ids in OpenAI's shapes: {@code file-…}, {@code batch_…}, {@code batch_req_…}, {@code req_…}. */
public final class Ids {
    private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    public static String file() {
        return "file-" + random(24);
    }

    public static String batch() {
        return "batch_" + random(24);
    }

    public static String batchRequest() {
        return "batch_req_" + random(24);
    }

    public static String request() {
        return "req_" + random(24);
    }

    /** {@code n} random base-62 characters (about 5.95 bits each). */
    public static String random(int n) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(c);
    }
}
