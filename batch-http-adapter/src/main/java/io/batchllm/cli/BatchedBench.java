package io.batchllm.cli;

import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.grammar.GrammarCursor;
import io.batchllm.engine.grammar.GrammarMatcher;
import io.batchllm.engine.grammar.VocabularyTrie;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.SequenceStart;
import io.batchllm.engine.model.StepHandle;
import io.batchllm.engine.model.StepPlan;
import io.batchllm.engine.model.StepResult;
import io.batchllm.engine.sampling.SamplingParams;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The measurement behind {@code batchllm bench}, after llama.cpp's {@code llama-batched-bench}: for a
 * parallel count B, one step prefills B prompts of random tokens together, then {@code genTokens}
 * steps decode the B sequences in lock-step, one token each per step.
 *
 * <p>It drives the executor as the engine does, through its contract: each sequence takes a slot
 * with greedy sampling, the prefill step samples every sequence's first token on the device, and each
 * decode step feeds back the token the device sampled in the step before, so only token ids cross the
 * device boundary. The work per step does not depend on which tokens are fed. Steps are submitted
 * without waiting for the one before, as the engine does, and the round waits for the last. A warm-up
 * round runs first for every B, with the measured prompt length and up to {@link #WARMUP_GEN_TOKENS}
 * decode steps: a short warm-up left the softmax and attention kernels interpreted for the first
 * timed phase of a small model (15M at B = 1 measured half its real speed).
 *
 * <p>Each sequence gets its own {@link #BLOCK_SIZE}-position KV blocks (no sharing: the prompts are
 * random), all given when it starts, and the cache is allocated for B such sequences before each
 * parallel count.
 *
 * <p><b>Constrained rounds</b> ({@link #constrained}) measure what structured outputs cost: every
 * sample of every sequence carries the token mask of a grammar, written on the host from the
 * sequence's grammar cursor as the engine writes it, and each sampled token advances the cursor; a
 * sequence whose document is complete (it sampled an end token) starts the next document. Since
 * the mask depends on the token before it, each step waits for the one before (the CPU executor
 * runs steps inside {@code submit} anyway, so the free rounds do not gain from not waiting).
 *
 * <p>Not thread safe; it drives the executor from the calling thread.
 */
final class BatchedBench {
    /** Decode steps of each warm-up round, at most (its prompt is the measured length). */
    static final int WARMUP_GEN_TOKENS = 32;
    /** KV block size: the engine's usual 16 positions. */
    static final int BLOCK_SIZE = 16;

    /** One parallel count's timings. */
    record Result(int parallel, int promptTokens, int genTokens, double promptSeconds, double decodeSeconds) {
        /** All prompts' tokens per second of the prefill step: B·PP / T_PP. */
        double promptTokensPerSecond() {
            return (double) parallel * promptTokens / promptSeconds;
        }

        /** Aggregate decode throughput: B·TG / T_TG. */
        double decodeTokensPerSecond() {
            return (double) parallel * genTokens / decodeSeconds;
        }
    }

    private static final SamplingParams GREEDY = SamplingParams.builder().temperature(0).build();

    private final DeviceExecutor executor;
    private final long seed;
    private final StepPlan plan = new StepPlan();
    /** Null for free rounds. */
    private final Constraint constraint;

    BatchedBench(DeviceExecutor executor, long seed) {
        this(executor, seed, null);
    }

    private BatchedBench(DeviceExecutor executor, long seed, Constraint constraint) {
        this.executor = executor;
        this.seed = seed;
        this.constraint = constraint;
    }

    /** The same measurement with every sample masked by {@code grammar} over {@code tokenizer}'s vocabulary. */
    BatchedBench constrained(Grammar grammar, Tokenizer tokenizer) {
        int vocab = executor.config().vocabSize();
        GrammarMatcher matcher = new GrammarMatcher(grammar, VocabularyTrie.ofTokenizer(tokenizer, vocab));
        int[] ends = IntStream.range(0, tokenizer.vocabSize()).filter(tokenizer::isEndOfGeneration).toArray();
        return new BatchedBench(executor, seed, new Constraint(matcher, ends, vocab));
    }

    /**
     * Measures one parallel count {@code repetitions} times and keeps the median prompt and decode
     * times (each on its own).
     */
    Result measure(int parallel, int promptTokens, int genTokens, int repetitions) {
        int blocksPerSequence = KvLayout.blocksFor(promptTokens + genTokens, BLOCK_SIZE);
        executor.allocateKvCache(new KvLayout(BLOCK_SIZE, parallel * blocksPerSequence), parallel);
        round(parallel, promptTokens, Math.min(genTokens, WARMUP_GEN_TOKENS));
        double[] prompt = new double[repetitions];
        double[] decode = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            double[] times = round(parallel, promptTokens, genTokens);
            prompt[r] = times[0];
            decode[r] = times[1];
        }
        return new Result(parallel, promptTokens, genTokens, median(prompt), median(decode));
    }

    /** One prefill step and {@code genTokens} decode steps; returns their seconds. */
    private double[] round(int parallel, int promptTokens, int genTokens) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int vocab = executor.config().vocabSize();
        int blocksPerSequence = executor.kvLayout().blockCount() / parallel;
        plan.clear();
        if (constraint != null) {
            constraint.startAll(parallel);
        }
        for (int b = 0; b < parallel; b++) {
            int[] blocks = IntStream.range(b * blocksPerSequence, (b + 1) * blocksPerSequence).toArray();
            int[] prompt = rnd.ints(promptTokens, 0, vocab).toArray();
            plan.release(b);
            plan.start(new SequenceStart(b, GREEDY, seed, 0, blocks, 0, prompt, new int[0], new int[0]));
            plan.chunk(b, 0, prompt, 0, promptTokens, true);
            mask(b);
        }
        long start = System.nanoTime();
        StepResult first = executor.submit(plan).await();
        accept(first, parallel);
        long prefilled = System.nanoTime();
        StepHandle last = null;
        for (int g = 0; g < genTokens; g++) {
            plan.clear();
            for (int b = 0; b < parallel; b++) {
                plan.feedback(b, promptTokens + g);
                mask(b);
            }
            last = executor.submit(plan);
            if (constraint != null) {
                accept(last.await(), parallel);
            }
        }
        last.await();
        long decoded = System.nanoTime();
        return new double[] {(prefilled - start) / 1e9, (decoded - prefilled) / 1e9};
    }

    private void mask(int sequence) {
        if (constraint != null) {
            plan.mask(constraint.mask(sequence));
        }
    }

    private void accept(StepResult result, int parallel) {
        if (constraint != null) {
            for (int b = 0; b < parallel; b++) {
                constraint.accept(b, result.token(b));
            }
        }
    }

    /** The grammar side of constrained rounds: a cursor per sequence, and the end tokens. */
    private static final class Constraint {
        private final GrammarMatcher matcher;
        private final int[] endTokens;
        private final long[] words;
        private GrammarCursor[] cursors = new GrammarCursor[0];

        Constraint(GrammarMatcher matcher, int[] endTokens, int vocab) {
            this.matcher = matcher;
            this.endTokens = endTokens;
            this.words = new long[(vocab + 63) >>> 6];
        }

        void startAll(int parallel) {
            cursors = new GrammarCursor[parallel];
            for (int b = 0; b < parallel; b++) {
                cursors[b] = matcher.newCursor();
            }
        }

        /** The mask of sequence {@code b}'s next sample: as the engine writes it (end tokens when complete). */
        long[] mask(int b) {
            cursors[b].writeMask(words);
            if (cursors[b].accepts()) {
                for (int t : endTokens) {
                    words[t >>> 6] |= 1L << (t & 63);
                }
            }
            return words;
        }

        void accept(int b, int token) {
            for (int t : endTokens) {
                if (t == token) {
                    cursors[b] = matcher.newCursor(); // the document is complete: the next one starts
                    return;
                }
            }
            if (!cursors[b].advance(token)) {
                throw new IllegalStateException("the executor sampled token " + token + ", which the mask left out");
            }
        }
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
