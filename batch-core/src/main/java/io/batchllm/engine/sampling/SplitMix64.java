package io.batchllm.engine.sampling;

/**
 * The SplitMix64 generator (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014; constants as in Vigna's reference {@code splitmix64.c}), used counter-style: the
 * {@code k}-th output of a stream is {@code mix(start + (k + 1) * GAMMA)}, so any draw can be computed
 * from (stream, index) alone, on any device and in any order. Written out here instead of using
 * {@link java.util.SplittableRandom} so that the token streams of a seeded request are fixed by this
 * file alone, not by a JDK version. Stateless.
 */
public final class SplitMix64 {
    /** The golden-ratio increment, 2^64 / phi. */
    static final long GAMMA = 0x9E3779B97F4A7C15L;

    private SplitMix64() {
    }

    /**
     * The uniform double in [0, 1) that the sampler of a stream draws for generated token
     * {@code index} (0 for a choice's first token): the top 53 bits of the stream's
     * {@code (index+1)}-th output, {@code (mix(stream + (index + 1) * GAMMA) >>> 11) * 2^-53}. This is
     * exactly what a stateful SplitMix64 seeded with {@code stream} returns on its {@code index+1}-th
     * call, which is how earlier versions drew (one draw per token).
     */
    public static double uniform(long stream, long index) {
        return (mix(stream + (index + 1) * GAMMA) >>> 11) * 0x1.0p-53;
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
    public static long streamSeed(long seed, int choiceIndex) {
        return mix(seed + (choiceIndex + 1L) * GAMMA);
    }
}
