package io.batchllm.engine.grammar;

import java.util.Arrays;

/**
 * One {@link Grammar} matched against one model's vocabulary: hands out {@link GrammarCursor}s (one
 * per constrained choice) and computes each grammar state's token mask once, by walking the
 * {@link VocabularyTrie}, then keeps it with the state. A step of a constrained choice therefore
 * costs, after the first time its grammar reaches a state, the token's bytes' transitions (array
 * reads) and a copy of the mask.
 *
 * <p>Memory is bounded: when its states or masks pass {@link #MAX_STATES} or {@link #MAX_MASK_BYTES},
 * cursors handed out afterwards start in a fresh state graph, and the old one is collected once the
 * choices walking it end.
 *
 * <p>Not thread safe: owned by one engine thread.
 */
public final class GrammarMatcher {
    /** States kept per graph before new cursors start a fresh one. */
    static final int MAX_STATES = 200_000;
    /** Mask bytes kept per graph before new cursors start a fresh one (2,000 dense masks at 128k tokens). */
    static final long MAX_MASK_BYTES = 32L << 20;

    private final Grammar grammar;
    private final VocabularyTrie trie;
    private StateGraph graph;
    private long maskBytes;
    private final long[] words;
    private State[] path;

    /** A matcher of {@code grammar} over the vocabulary {@code trie}. */
    public GrammarMatcher(Grammar grammar, VocabularyTrie trie) {
        this.grammar = grammar;
        this.trie = trie;
        this.graph = new StateGraph(grammar.nfa);
        this.words = new long[trie.maskWords()];
        this.path = new State[trie.maxDepth + 1];
    }

    /** The grammar matched. */
    public Grammar grammar() {
        return grammar;
    }

    /** Bytes of the masks its current state graph keeps (the older graphs' go with their last cursors). */
    public long maskBytes() {
        return maskBytes;
    }

    /** A cursor at the start of the grammar, for a new choice. */
    public GrammarCursor newCursor() {
        if (graph.size() > MAX_STATES || maskBytes > MAX_MASK_BYTES) {
            graph = new StateGraph(grammar.nfa);
            maskBytes = 0;
        }
        return new GrammarCursor(this, graph.start());
    }

    VocabularyTrie trie() {
        return trie;
    }

    /** The state after {@code token}'s bytes, {@link State#DEAD} if the grammar refuses them. */
    State advance(State from, int token) {
        byte[] bytes = trie.bytes(token);
        if (bytes == null) {
            return State.DEAD;
        }
        State s = from;
        for (int i = 0; i < bytes.length && s != State.DEAD; i++) {
            s = s.next(bytes[i] & 0xFF);
        }
        return s;
    }

    /** The text tokens {@code state} allows, computed on first use. */
    TokenMask mask(State state) {
        if (state.mask == null) {
            state.mask = computeMask(state);
            if (state.graph == graph) {
                maskBytes += state.mask.bytes();
            }
        }
        return state.mask;
    }

    /**
     * Walks the trie in preorder from {@code from}: a node's state is its parent's after the node's
     * byte (the parent is the last node seen one level up); a refused byte skips the node's subtree.
     */
    private TokenMask computeMask(State from) {
        Arrays.fill(words, 0L);
        int count = 0;
        path[0] = from;
        int[] depth = trie.depth;
        byte[] label = trie.label;
        int[] subtreeEnd = trie.subtreeEnd;
        int[] tokensFrom = trie.tokensFrom;
        int[] tokens = trie.tokens;
        int n = trie.nodeCount;
        for (int i = 1; i < n; ) {
            State s = path[depth[i] - 1].next(label[i] & 0xFF);
            if (s == State.DEAD) {
                i = subtreeEnd[i];
                continue;
            }
            path[depth[i]] = s;
            for (int k = tokensFrom[i]; k < tokensFrom[i + 1]; k++) {
                int t = tokens[k];
                words[t >>> 6] |= 1L << (t & 63);
                count++;
            }
            i++;
        }
        Arrays.fill(path, null);
        return TokenMask.of(words, count, trie.vocabSize());
    }
}
