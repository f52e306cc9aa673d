package io.batchllm.engine;

import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.grammar.GrammarCursor;
import io.batchllm.engine.grammar.GrammarMatcher;
import io.batchllm.engine.grammar.VocabularyTrie;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One model's grammar matchers: the vocabulary trie, built on the first constrained request, and a
 * {@link GrammarMatcher} per grammar in use, so that each grammar state's token mask is computed once
 * for the model and reused by every choice under that grammar. The least recently used matchers go
 * when more than {@value #MAX_MATCHERS} grammars are in use, or when their masks together take more
 * than {@link #MAX_MASK_BYTES}. Owned by the engine thread.
 */
final class GrammarMatchers {
    /** Grammars whose matchers (and masks) are kept. */
    static final int MAX_MATCHERS = 64;
    /** Mask bytes kept over all matchers: 128 MiB, 8,000 dense masks of a 128k vocabulary. */
    static final long MAX_MASK_BYTES = 128L << 20;

    private final Tokenizer tokenizer;
    private final int vocabSize;
    private final long maxMaskBytes;
    private VocabularyTrie trie;
    private final Map<Grammar, GrammarMatcher> matchers = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Grammar, GrammarMatcher> eldest) {
            return size() > MAX_MATCHERS;
        }
    };
    private final long[] mask;

    /** @param vocabSize the model's vocabulary (its logits row), which masks cover */
    GrammarMatchers(Tokenizer tokenizer, int vocabSize) {
        this(tokenizer, vocabSize, MAX_MASK_BYTES);
    }

    /** As {@link #GrammarMatchers(Tokenizer, int)}, keeping at most {@code maxMaskBytes} of masks. */
    GrammarMatchers(Tokenizer tokenizer, int vocabSize, long maxMaskBytes) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.maxMaskBytes = maxMaskBytes;
        this.mask = new long[(vocabSize + 63) >>> 6];
    }

    /** A cursor at the start of {@code grammar}, for a new choice. */
    GrammarCursor newCursor(Grammar grammar) {
        if (trie == null) {
            trie = VocabularyTrie.ofTokenizer(tokenizer, vocabSize);
        }
        GrammarCursor cursor = matchers.computeIfAbsent(grammar, g -> new GrammarMatcher(g, trie)).newCursor();
        long total = matchers.values().stream().mapToLong(GrammarMatcher::maskBytes).sum();
        // the map is in access order: the least recently used first; the one just used is kept
        var eldest = matchers.values().iterator();
        while (total > maxMaskBytes && matchers.size() > 1) {
            total -= eldest.next().maskBytes();
            eldest.remove();
        }
        return cursor;
    }

    /** Matchers kept. */
    int size() {
        return matchers.size();
    }

    /** A buffer of one mask, reused for every masked entry the engine plans. */
    long[] maskBuffer() {
        return mask;
    }
}
