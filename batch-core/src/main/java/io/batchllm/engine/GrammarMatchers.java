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
 * for the model and reused by every choice under that grammar. The least recently used matcher goes
 * when more than {@value #MAX_MATCHERS} grammars are in use. Owned by the engine thread.
 */
final class GrammarMatchers {
    /** Grammars whose matchers (and masks) are kept. */
    static final int MAX_MATCHERS = 64;

    private final Tokenizer tokenizer;
    private final int vocabSize;
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
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.mask = new long[(vocabSize + 63) >>> 6];
    }

    /** A cursor at the start of {@code grammar}, for a new choice. */
    GrammarCursor newCursor(Grammar grammar) {
        if (trie == null) {
            trie = VocabularyTrie.ofTokenizer(tokenizer, vocabSize);
        }
        return matchers.computeIfAbsent(grammar, g -> new GrammarMatcher(g, trie)).newCursor();
    }

    /** A buffer of one mask, reused for every masked entry the engine plans. */
    long[] maskBuffer() {
        return mask;
    }
}
