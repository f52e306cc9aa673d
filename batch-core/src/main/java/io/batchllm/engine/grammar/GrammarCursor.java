package io.batchllm.engine.grammar;

/**
 * Where one constrained choice stands in its grammar: advanced by each token the choice generates,
 * asked for the mask of the tokens allowed next. A choice that is preempted keeps its cursor, which
 * only ever moves with tokens the choice kept.
 *
 * <p>Not thread safe: used by the engine thread that owns its {@link GrammarMatcher}.
 */
public final class GrammarCursor {
    private final GrammarMatcher matcher;
    private State state;

    GrammarCursor(GrammarMatcher matcher, State start) {
        this.matcher = matcher;
        this.state = start;
    }

    /** Whether the text so far is complete: the choice may end here (an end token is allowed). */
    public boolean accepts() {
        return state.accepting;
    }

    /** Whether more text may follow (false once, for example, a JSON document is closed). */
    public boolean canContinue() {
        return state.canContinue();
    }

    /** How many text tokens are allowed next (end tokens aside). */
    public int allowedTokens() {
        return matcher.mask(state).count();
    }

    /**
     * Moves past {@code token}'s text.
     *
     * @return false, leaving the cursor where it was, if the grammar does not allow the token here
     *     (or it adds no text)
     */
    public boolean advance(int token) {
        State next = matcher.advance(state, token);
        if (next == State.DEAD) {
            return false;
        }
        state = next;
        return true;
    }

    /**
     * Writes the text tokens allowed next into {@code words} as a bitset over the vocabulary (bit
     * {@code t % 64} of word {@code t / 64} for token {@code t}); end tokens are not included, the
     * caller adds them when {@link #accepts()}.
     *
     * @param words exactly {@link VocabularyTrie#maskWords()} longs, overwritten
     * @return how many text tokens are allowed
     */
    public int writeMask(long[] words) {
        TokenMask mask = matcher.mask(state);
        mask.writeTo(words);
        return mask.count();
    }
}
