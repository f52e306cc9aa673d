package io.batchllm.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static SamplingParams.Builder params() {
        return SamplingParams.builder();
    }

    /** Logits whose softmax (at temperature 1) is exactly {@code probs}. */
    private static float[] logitsOf(double... probs) {
        float[] logits = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            logits[i] = (float) Math.log(probs[i]);
        }
        return logits;
    }

    private static int[] histogram(SamplingParams p, float[] logits, int draws) {
        Sampler sampler = Sampler.create(p, logits.length, 0);
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.sample(logits).token()]++;
        }
        return counts;
    }

    private static List<Integer> draws(Sampler sampler, float[] logits, int count) {
        List<Integer> tokens = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            tokens.add(sampler.sample(logits).token());
        }
        return tokens;
    }

    @Test
    void aTokenMaskRestrictsEveryKindOfSamplingToItsTokens() {
        float[] logits = new float[130];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i * 0.7) * 3;
        }
        long[] mask = new long[3];
        int[] allowed = {3, 64, 65, 129};
        for (int t : allowed) {
            mask[t / 64] |= 1L << (t % 64);
        }
        float[] scratch = new float[logits.length];
        for (SamplingParams p : List.of(params().temperature(0).build(), params().seed(1L).build(),
                params().topK(40).seed(2L).build(), params().topP(0.5).seed(3L).build(),
                params().minP(0.5).seed(4L).build(), params().topK(2).temperature(1.5).seed(5L).build())) {
            Sampler sampler = Sampler.create(p, logits.length, 0);
            for (int i = 0; i < 200; i++) {
                int token = sampler.sample(logits, 0, scratch, mask);
                assertTrue(token == 3 || token == 64 || token == 65 || token == 129, p + " sampled " + token);
            }
        }
        Sampler greedy = Sampler.create(params().temperature(0).build(), logits.length, 0);
        int best = 3;
        for (int t : allowed) {
            best = logits[t] > logits[best] ? t : best;
        }
        assertEquals(best, greedy.sample(logits, 0, scratch, mask));
        var e = assertThrows(IllegalArgumentException.class, () -> greedy.sample(logits, 0, scratch, new long[3]));
        assertTrue(e.getMessage().contains("leave no token"), e.getMessage());
    }

    @Test
    void greedyPicksTheLargestLogit() {
        Sampler sampler = Sampler.create(params().temperature(0).build(), 4, 0);
        assertEquals(2, sampler.sample(new float[] {0.5f, -1f, 3.25f, 3.0f}).token());
    }

    @Test
    void greedyBreaksTiesTowardTheLowestTokenId() {
        Sampler sampler = Sampler.create(params().temperature(0).build(), 5, 0);
        assertEquals(1, sampler.sample(new float[] {1f, 7f, 2f, 7f, 7f}).token());
        assertEquals(3, Sampler.argmax(new float[] {9f, 9f, 0f, 4f, 4f}, 2, 3) + 2);
    }

    @Test
    void topKOfOneEqualsGreedyOnRandomRows() {
        Random random = new Random(7);
        Sampler greedy = Sampler.create(params().temperature(0).build(), 50, 0);
        Sampler topK1 = Sampler.create(params().temperature(1.3).topK(1).seed(3L).build(), 50, 0);
        for (int row = 0; row < 200; row++) {
            float[] logits = new float[50];
            for (int i = 0; i < logits.length; i++) {
                // coarse values so that ties occur and their tie-break is compared too
                logits[i] = random.nextInt(8);
            }
            assertEquals(greedy.sample(logits).token(), topK1.sample(logits).token(), "row " + row);
        }
    }

    @Test
    void logitBiasOfMinus100BansATokenEvenWhenSampling() {
        float[] logits = {0f, 5f, 4.9f};
        Map<Integer, Float> ban = Map.of(1, -100f);
        assertEquals(2, Sampler.create(params().temperature(0).logitBias(ban).build(), 3, 0).sample(logits).token());
        int[] counts = histogram(params().temperature(2).logitBias(ban).seed(11L).build(), logits, 2000);
        assertEquals(0, counts[1]);
        assertTrue(counts[0] > 0 && counts[2] > 0);
    }

    @Test
    void penaltiesFollowOpenAisFormulaOverGeneratedTokens() {
        // Hand-computed with frequency 0.25 and presence 0.5 (exact in binary, so no rounding ties):
        // step 1: [2, 1.5, 1.125] -> 0
        // step 2: token 0 seen once: 2 - 0.25 - 0.5 = 1.25 < 1.5 -> 1
        // step 3: [1.25, 1.5 - 0.75 = 0.75, 1.125] -> 0
        // step 4: [2 - 0.5 - 0.5 = 1.0, 0.75, 1.125] -> 2
        // step 5: [1.0, 0.75, 1.125 - 0.75 = 0.375] -> 0
        // step 6: [2 - 0.75 - 0.5 = 0.75, 0.75, 0.375] -> tie, lowest id 0
        Sampler sampler = Sampler.create(params().temperature(0).frequencyPenalty(0.25).presencePenalty(0.5).build(), 3, 0);
        assertEquals(List.of(0, 1, 0, 2, 0, 0), draws(sampler, new float[] {2f, 1.5f, 1.125f}, 6));
    }

    @Test
    void negativePresencePenaltyEncouragesRepeats() {
        // token 1 is behind by 0.5; once drawn, a presence penalty of -1 lifts it above token 0
        Sampler sampler = Sampler.create(params().temperature(0).presencePenalty(-1).logitBias(Map.of(1, 1f)).build(), 2, 0);
        float[] logits = {1f, 0.5f};
        assertEquals(List.of(1, 1, 1), draws(sampler, logits, 3));
        Sampler unbiasedStart = Sampler.create(params().temperature(0).presencePenalty(-1).build(), 2, 0);
        assertEquals(List.of(0, 0, 0), draws(unbiasedStart, logits, 3));
    }

    @Test
    void theSameSeedGivesTheSameTokensAndOtherSamplersDoNotInterfere() {
        float[] logits = new float[300];
        Random random = new Random(1);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        SamplingParams p = params().seed(42L).n(2).topP(0.95).topK(100).build();
        List<Integer> alone = draws(Sampler.create(p, 300, 1), logits, 100);

        Sampler interleaved = Sampler.create(p, 300, 1);
        Sampler neighbour = Sampler.create(params().seed(9L).build(), 300, 0);
        List<Integer> batched = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            neighbour.sample(logits);
            batched.add(interleaved.sample(logits).token());
        }
        assertEquals(alone, batched);
        assertEquals(alone, draws(Sampler.create(p, 300, 1), logits, 100));
    }

    @Test
    void differentSeedsAndChoicesDrawDifferentStreams() {
        float[] uniform = new float[1000];
        List<Integer> seed1 = draws(Sampler.create(params().seed(1L).n(2).build(), 1000, 0), uniform, 100);
        List<Integer> seed2 = draws(Sampler.create(params().seed(2L).n(2).build(), 1000, 0), uniform, 100);
        List<Integer> seed1Choice1 = draws(Sampler.create(params().seed(1L).n(2).build(), 1000, 1), uniform, 100);
        List<Integer> unseeded = draws(Sampler.create(params().build(), 1000, 0), uniform, 100);
        // two independent uniform streams over 1000 tokens agree at ~0.1 of 100 positions
        assertTrue(agreements(seed1, seed2) < 5, "seeds 1 and 2");
        assertTrue(agreements(seed1, seed1Choice1) < 5, "choices 0 and 1");
        assertTrue(agreements(seed1, unseeded) < 5, "seed 1 and no seed");
    }

    private static int agreements(List<Integer> a, List<Integer> b) {
        int same = 0;
        for (int i = 0; i < a.size(); i++) {
            same += a.get(i).equals(b.get(i)) ? 1 : 0;
        }
        return same;
    }

    @Test
    void drawsFollowTheTemperatureScaledDistribution() {
        float[] logits = logitsOf(0.5, 0.3, 0.2);
        int[] t1 = histogram(params().seed(5L).build(), logits, 20_000);
        assertEquals(0.5, t1[0] / 20_000.0, 0.015);
        assertEquals(0.3, t1[1] / 20_000.0, 0.015);
        // temperature 0.5 squares the probabilities: 0.25 : 0.09 : 0.04 of 0.38
        int[] t05 = histogram(params().seed(5L).temperature(0.5).build(), logits, 20_000);
        assertEquals(0.25 / 0.38, t05[0] / 20_000.0, 0.015);
        assertEquals(0.04 / 0.38, t05[2] / 20_000.0, 0.015);
    }

    @Test
    void topPKeepsTheShortestPrefixReachingTheMass() {
        float[] logits = logitsOf(0.3, 0.5, 0.05, 0.15);
        // sorted: 0.5 (id 1), 0.3 (id 0), 0.15 (id 3), 0.05 (id 2); 0.5 < 0.75 <= 0.8
        int[] counts = histogram(params().seed(8L).topP(0.75).build(), logits, 5000);
        assertEquals(0, counts[2] + counts[3]);
        assertEquals(0.5 / 0.8, counts[1] / 5000.0, 0.03);
        int[] wider = histogram(params().seed(8L).topP(0.85).build(), logits, 5000);
        assertEquals(0, wider[2]);
        assertTrue(wider[3] > 0);
        int[] zero = histogram(params().seed(8L).topP(0).build(), logits, 200);
        assertEquals(200, zero[1]);
    }

    @Test
    void topPOnALargeVocabularyKeepsOnlyTheNucleus() {
        // token 500 holds 0.6, token 7 holds 0.3 and 998 others share 0.1: top_p 0.85 keeps {500, 7}
        double[] probs = new double[1000];
        java.util.Arrays.fill(probs, 0.1 / 998);
        probs[500] = 0.6;
        probs[7] = 0.3;
        int[] counts = histogram(params().seed(4L).topP(0.85).build(), logitsOf(probs), 3000);
        assertEquals(3000, counts[500] + counts[7]);
        assertEquals(2.0 / 3, counts[500] / 3000.0, 0.03);
    }

    @Test
    void topKKeepsTheKHighestLogits() {
        int[] counts = histogram(params().seed(2L).topK(2).temperature(2).build(), new float[] {3f, 1f, 2f, 0f}, 2000);
        assertEquals(0, counts[1] + counts[3]);
        assertTrue(counts[0] > counts[2] && counts[2] > 0);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheMostLikely() {
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        int[] quarter = histogram(params().seed(6L).minP(0.25).build(), logits, 3000);
        assertEquals(0, quarter[3], "0.05 < 0.25 * 0.5");
        assertTrue(quarter[2] > 0, "0.15 >= 0.125");
        int[] half = histogram(params().seed(6L).minP(0.5).build(), logits, 3000);
        assertEquals(0, half[2] + half[3]);
        assertEquals(0.5 / 0.8, half[0] / 3000.0, 0.03);
    }

    @Test
    void topPIsMeasuredOnTheTopKSurvivors() {
        // over all four, 0.4 + 0.3 < 0.75 would keep token 2 too; renormalized over the top 3,
        // 0.4/0.9 + 0.3/0.9 = 0.78 >= 0.75 keeps only tokens 0 and 1
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.1);
        int[] counts = histogram(params().seed(3L).topK(3).topP(0.75).build(), logits, 3000);
        assertEquals(0, counts[2] + counts[3]);
        int[] withoutTopK = histogram(params().seed(3L).topP(0.75).build(), logits, 3000);
        assertTrue(withoutTopK[2] > 0);
        assertEquals(0, withoutTopK[3]);
    }

    @Test
    void minPIsMeasuredAfterTemperature() {
        // at temperature 0.5 the weights are 0.25 : 0.09 : 0.0225 : 0.0025, and min_p 0.1 needs 0.025
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        int[] cold = histogram(params().seed(1L).temperature(0.5).minP(0.1).build(), logits, 3000);
        assertEquals(0, cold[2] + cold[3]);
        int[] warm = histogram(params().seed(1L).minP(0.1).build(), logits, 3000);
        assertTrue(warm[2] > 0, "0.15 >= 0.1 * 0.5 at temperature 1");
        assertEquals(0, warm[3]);
    }

    @Test
    void logprobsDescribeTheModelBeforeTemperatureAndTruncation() {
        float[] logits = logitsOf(0.5, 0.3, 0.2);
        SampledToken token = Sampler.create(params().temperature(0.5).topK(1).logprobs(true).topLogprobs(2).build(), 3, 0)
                .sample(logits);
        assertEquals(0, token.token());
        assertEquals(Math.log(0.5), token.logprob(), 1e-5);
        assertEquals(List.of(0, 1), token.topLogprobs().stream().map(TokenLogprob::token).toList());
        assertEquals(Math.log(0.3), token.topLogprobs().get(1).logprob(), 1e-5);
    }

    @Test
    void logprobsOfASampledTokenSurviveTheDraw() {
        // the draw overwrites the scratch row; the reported logprob must still be the model's
        float[] logits = logitsOf(0.5, 0.3, 0.2);
        Sampler sampler = Sampler.create(params().seed(21L).temperature(1.5).logprobs(true).build(), 3, 0);
        for (int i = 0; i < 50; i++) {
            SampledToken token = sampler.sample(logits);
            assertEquals(Math.log(new double[] {0.5, 0.3, 0.2}[token.token()]), token.logprob(), 1e-5);
        }
    }

    @Test
    void logprobsIncludeLogitBias() {
        // bias ln 3 on token 1 makes the odds 1:3
        SampledToken token = Sampler.create(params().temperature(0).logprobs(true)
                .logitBias(Map.of(1, (float) Math.log(3))).build(), 2, 0).sample(new float[] {0f, 0f});
        assertEquals(1, token.token());
        assertEquals(Math.log(0.75), token.logprob(), 1e-5);
        assertTrue(token.topLogprobs().isEmpty());
    }

    @Test
    void withoutLogprobsNoneAreComputed() {
        SampledToken token = Sampler.create(params().temperature(0).build(), 2, 0).sample(new float[] {0f, 1f});
        assertFalse(token.hasLogprobs());
        assertTrue(token.topLogprobs().isEmpty());
    }

    @Test
    void readsTheRowAtAnOffsetWithoutChangingIt() {
        float[] rows = {9f, 9f, 0f, 1f, 3f, 2f};
        Sampler sampler = Sampler.create(params().temperature(0).logitBias(Map.of(1, -50f)).build(), 4, 0);
        assertEquals(2, sampler.sample(rows, 2).token());
        assertEquals(List.of(9f, 9f, 0f, 1f, 3f, 2f), toList(rows));
    }

    private static List<Float> toList(float[] values) {
        List<Float> list = new ArrayList<>();
        for (float v : values) {
            list.add(v);
        }
        return list;
    }

    @Test
    void rejectsBrokenRowsAndOutOfVocabularyBias() {
        Sampler sampler = Sampler.create(params().build(), 3, 0);
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[] {0f, Float.NaN, 1f}));
        assertTrue(nan.getMessage().contains("token 1 is NaN"), nan.getMessage());
        assertThrows(IllegalArgumentException.class, () -> sampler.sample(new float[] {0f, 1f}));
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
                () -> Sampler.create(params().logitBias(Map.of(3, 1f)).build(), 3, 0));
        assertTrue(bias.getMessage().contains("token 3"), bias.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sampler.create(params().n(2).build(), 3, 2));
    }

    @Test
    void rankKeysOrderByLogitDescendingThenIdAscending() {
        List<Long> keys = new ArrayList<>(List.of(
                RankKeys.key(-1.5f, 0), RankKeys.key(2f, 5), RankKeys.key(2f, 3),
                RankKeys.key(Float.NEGATIVE_INFINITY, 1), RankKeys.key(0f, 9), RankKeys.key(-0.25f, 2)));
        keys.sort(null);
        assertEquals(List.of(3, 5, 9, 2, 0, 1), keys.stream().map(RankKeys::id).toList());
        assertNotEquals(RankKeys.key(1f, 1), RankKeys.key(1f, 2));
    }

    @Test
    void theRepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfPromptAndGeneratedTokens() {
        // penalty 2 on the prompt's token 0: [3, 2, 1] -> [1.5, 2, 1], so 1; then 1 is generated too:
        // [1.5, 1, 1] -> 0 (now both penalized, 0 still a prompt token: no double penalty)
        float[] logits = {3f, 2f, 1f};
        Sampler sampler = Sampler.create(params().temperature(0).repetitionPenalty(2).build(), 3, 0, 1L,
                new int[] {0, 0}, new int[0], new int[0]);
        assertEquals(List.of(1, 0, 0), draws(sampler, logits, 3));
        // negative logits grow more negative: [-1, -1.5] with token 0 generated -> [-2, -1.5] -> 1
        Sampler negative = Sampler.create(params().temperature(0).repetitionPenalty(2).build(), 2, 0, 1L,
                new int[0], new int[] {0}, new int[0]);
        assertEquals(1, negative.sample(new float[] {-1f, -1.5f}).token());
        // without it, the prompt does not count
        Sampler off = Sampler.create(params().temperature(0).build(), 3, 0, 1L, new int[] {0}, new int[0], new int[0]);
        assertEquals(0, off.sample(logits).token());
    }

    @Test
    void theRepetitionPenaltyComesBeforeTheOthersAndTheLogprobSeesIt() {
        // [1, 0] with token 0 generated once: repetition 2 -> 0.5, then frequency 0.25 and presence 0.25 -> 0
        SampledToken token = Sampler.create(params().temperature(0).repetitionPenalty(2).frequencyPenalty(0.25)
                .presencePenalty(0.25).logprobs(true).build(), 2, 0, 1L, new int[0], new int[] {0}, new int[0])
                .sample(new float[] {1f, 0f});
        assertEquals(0, token.token(), "a tie at 0, lowest id");
        assertEquals(Math.log(0.5), token.logprob(), 1e-6);
    }

    @Test
    void endTokensAreMaskedUntilMinTokensWereGeneratedButKeepTheirLogprobs() {
        // token 1 is by far the most likely; with min_tokens 2 the first two tokens are the next best
        Sampler sampler = Sampler.create(params().temperature(0).minTokens(2).logprobs(true).topLogprobs(1).build(),
                3, 0, 1L, new int[0], new int[0], new int[] {1});
        float[] logits = {0f, 5f, 1f};
        SampledToken first = sampler.sample(logits);
        assertEquals(2, first.token());
        assertEquals(1, first.topLogprobs().get(0).token(), "the logprobs describe the model, mask or not");
        assertEquals(2, sampler.sample(logits).token(), "the second token is still before min_tokens");
        assertEquals(1, sampler.sample(logits).token(), "the third may end the choice");
        // a sequence resumed after two tokens is past the mask at once
        Sampler resumed = Sampler.create(params().temperature(0).minTokens(2).build(), 3, 0, 1L, new int[0],
                new int[] {2, 2}, new int[] {1});
        assertEquals(1, resumed.sample(logits).token());
    }

    @Test
    void generatedTokenIDrawsTheStreamsIthNumberSoAResumedSamplerContinuesTheSameDraws() {
        float[] logits = new float[50];
        SamplingParams p = params().temperature(1.2).topP(0.97).seed(5L).n(2).build();
        List<Integer> straight = draws(Sampler.create(p, 50, 1), logits, 12);
        int[] firstFive = straight.subList(0, 5).stream().mapToInt(Integer::intValue).toArray();
        Sampler resumed = Sampler.create(p, 50, 1, 5L, new int[0], firstFive, new int[0]);
        assertEquals(straight.subList(5, 12), draws(resumed, logits, 7));
    }

    @Test
    void theUniformNumbersAreSplitMix64sOutputsCountedFromTheStreamsStart() {
        // SplitMix64 written out as in Vigna's splitmix64.c: state += gamma; z = mix(state)
        long state = SplitMix64.streamSeed(123, 4);
        for (int i = 0; i < 100; i++) {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            assertEquals((z >>> 11) * 0x1.0p-53, SplitMix64.uniform(SplitMix64.streamSeed(123, 4), i), "draw " + i);
        }
    }

    @Test
    void samplingIntoACallersScratchAllocatesNoSampledTokenAndReportsTheSame() {
        float[] logits = new float[40];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i);
        }
        SamplingParams p = params().temperature(0.7).seed(3L).logprobs(true).topLogprobs(3).build();
        Sampler viaTokens = Sampler.create(p, 40, 0);
        Sampler viaScratch = Sampler.create(p, 40, 0);
        float[] scratch = new float[40];
        for (int i = 0; i < 5; i++) {
            SampledToken expected = viaTokens.sample(logits);
            assertEquals(expected.token(), viaScratch.sample(logits, 0, scratch));
            assertEquals(expected.logprob(), viaScratch.logprob());
            assertEquals(3, viaScratch.topLogprobCount());
            for (int k = 0; k < 3; k++) {
                assertEquals(expected.topLogprobs().get(k), new TokenLogprob(viaScratch.topLogprobToken(k),
                        viaScratch.topLogprobValue(k)));
            }
        }
    }
}
