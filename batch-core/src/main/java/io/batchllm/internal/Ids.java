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

    /** An output line's id. Not a secret, so a fast generator does (one per result line). */
    public static String batchRequest() {
        return "batch_req_" + fast(24);
    }

    /** A response's request id. Not a secret. */
    public static String request() {
        return "req_" + fast(24);
    }

    /**
     * {@code n} random base-62 characters (about 5.95 bits each) from a secure generator: file and
     * batch ids are handles that should not be guessable.
     */
    public static String random(int n) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(c);
    }

    private static String fast(int n) {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALPHABET[r.nextInt(ALPHABET.length)];
        }
        return new String(c);
    }
}
