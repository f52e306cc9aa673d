package io.batchllm.engine.grammar;

/**
 * A set of places the grammar's automaton can be in after some text (its threads: an NFA state and a
 * stack of return states each), determinized lazily: the state after each byte is computed the
 * first time it is asked for and then kept, so matching a token is a few array reads once the
 * grammar has been seen. States are interned by their {@link StateGraph}: the same set is the same
 * object, which is what lets {@link GrammarMatcher} keep one token mask per state. Used by one thread.
 */
final class State {
    /** No thread left: the text so far can never be completed. */
    static final State DEAD = new State(null, new long[0], false);

    final StateGraph graph;
    /** Each thread as {@code stackId << 32 | nfaState}, sorted; only states that consume bytes. */
    final long[] threads;
    /** Whether the text so far is a complete sentence of the grammar. */
    final boolean accepting;
    private State[] next;

    /** The token mask of this state, kept by the {@link GrammarMatcher} of its graph. */
    TokenMask mask;

    State(StateGraph graph, long[] threads, boolean accepting) {
        this.graph = graph;
        this.threads = threads;
        this.accepting = accepting;
    }

    /** The state after byte {@code b} (0 to 255), {@link #DEAD} if the grammar does not allow it here. */
    State next(int b) {
        if (this == DEAD) {
            return DEAD;
        }
        if (next == null) {
            next = new State[256];
        }
        State s = next[b];
        if (s == null) {
            s = graph.step(this, b);
            next[b] = s;
        }
        return s;
    }

    /** Whether some byte can follow. */
    boolean canContinue() {
        return threads.length > 0;
    }
}
