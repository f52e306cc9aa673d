package io.batchllm.engine.sampling;

/**
 * The SplitMix64 generator (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014; constants as in Vigna's reference {@code splitmix64.c}). Written out here instead of
 * using {@link java.util.SplittableRandom} so that the token streams of a seeded request are fixed
 * by this file alone, not by a JDK version. Not thread-safe: one instance per sequence.
 */
final class SplitMix64 {
    /** The golden-ratio increment, 2^64 / phi. */
    static final long GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    /** The next 64 uniformly distributed bits. */
    long nextLong() {
        state += GAMMA;
        return mix(state);
    }

    /** A uniform double in [0, 1): the top 53 bits of {@link #nextLong()}. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** SplitMix64's output function (a variant of MurmurHash3's 64-bit finalizer). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The starting state of choice {@code choiceIndex}'s stream for request seed {@code seed}: the
     * (choiceIndex+1)-th output of a SplitMix64 seeded with {@code seed}. Hashing (rather than, say,
     * seed + index) keeps the streams of neighbouring choices from being shifted copies of each other.
     */
    static long streamSeed(long seed, int choiceIndex) {
        return mix(seed + (choiceIndex + 1L) * GAMMA);
    }
}
