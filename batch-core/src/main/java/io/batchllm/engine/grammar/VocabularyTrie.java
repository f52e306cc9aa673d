package io.batchllm.engine.grammar;

import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A model's vocabulary as the byte strings its tokens add to generated text, in a trie, for
 * computing token masks: a grammar state's mask is found by walking the trie from the state, one
 * byte per edge, and skipping a whole subtree as soon as its prefix is refused, so a state that
 * allows few tokens (between JSON values) costs a few hundred steps, and one that allows nearly all
 * (inside a string) one step per trie node. Tokens that add no text (control tokens) are left out:
 * the grammar cannot use them, and the end-of-generation tokens are allowed separately, when the
 * grammar accepts.
 *
 * <p>The nodes are in preorder in flat arrays: node {@code i}'s subtree is {@code [i, subtreeEnd[i])},
 * its depth and the byte on its edge are {@code depth[i]} and {@code label[i]}, and its tokens (several
 * when tokens decode to the same bytes) are {@code tokens[tokensFrom[i] .. tokensFrom[i + 1])}.
 * Immutable; thread safe; built once per model.
 */
public final class VocabularyTrie {
    private final int vocabSize;
    private final byte[][] bytesOf;
    final int nodeCount;
    final int[] depth;
    final byte[] label;
    final int[] subtreeEnd;
    final int[] tokensFrom;
    final int[] tokens;
    final int maxDepth;

    private VocabularyTrie(int vocabSize, byte[][] bytesOf, int nodeCount, int[] depth, byte[] label,
            int[] subtreeEnd, int[] tokensFrom, int[] tokens, int maxDepth) {
        this.vocabSize = vocabSize;
        this.bytesOf = bytesOf;
        this.nodeCount = nodeCount;
        this.depth = depth;
        this.label = label;
        this.subtreeEnd = subtreeEnd;
        this.tokensFrom = tokensFrom;
        this.tokens = tokens;
        this.maxDepth = maxDepth;
    }

    /**
     * A trie of the tokens' text bytes.
     *
     * @param bytesByToken per token id, the bytes it adds to the generated text; null or empty for a
     *     token the grammar must never use (control and end tokens)
     */
    public static VocabularyTrie of(byte[][] bytesByToken) {
        int vocab = bytesByToken.length;
        byte[][] bytes = new byte[vocab][];
        Integer[] order = java.util.stream.IntStream.range(0, vocab)
                .filter(t -> bytesByToken[t] != null && bytesByToken[t].length > 0)
                .peek(t -> bytes[t] = bytesByToken[t].clone())
                .boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparing((Integer t) -> bytes[t], Arrays::compareUnsigned)
                .thenComparing(t -> t));
        int capacity = 1;
        for (Integer t : order) {
            capacity += bytes[t].length;
        }
        int[] depth = new int[capacity];
        byte[] label = new byte[capacity];
        int[] subtreeEnd = new int[capacity];
        int[] tokensFrom = new int[capacity + 1];
        int[] tokens = new int[order.length];
        int[] path = new int[64]; // path[d] = node at depth d on the current branch
        int nodes = 1;
        int pathLength = 0; // depth of the current branch's last node
        int tokenCount = 0;
        int maxDepth = 0;
        byte[] previous = new byte[0];
        for (Integer t : order) {
            byte[] b = bytes[t];
            int common = 0;
            while (common < Math.min(b.length, previous.length) && b[common] == previous[common]) {
                common++;
            }
            // close the branch's nodes below the common prefix: their subtrees end here
            for (int d = pathLength; d > common; d--) {
                subtreeEnd[path[d]] = nodes;
            }
            pathLength = common;
            if (path.length <= b.length) {
                path = Arrays.copyOf(path, 2 * b.length + 1);
            }
            for (int d = common; d < b.length; d++) {
                depth[nodes] = d + 1;
                label[nodes] = b[d];
                tokensFrom[nodes] = tokenCount;
                path[d + 1] = nodes++;
            }
            pathLength = b.length;
            maxDepth = Math.max(maxDepth, b.length);
            tokens[tokenCount++] = t;
            previous = b;
        }
        for (int d = pathLength; d > 0; d--) {
            subtreeEnd[path[d]] = nodes;
        }
        subtreeEnd[0] = nodes;
        // tokensFrom is the token count when each node was created: a node's own tokens are those
        // added before the next node was created
        tokensFrom[nodes] = tokenCount;
        return new VocabularyTrie(vocab, bytes, nodes, Arrays.copyOf(depth, nodes), Arrays.copyOf(label, nodes),
                Arrays.copyOf(subtreeEnd, nodes), Arrays.copyOf(tokensFrom, nodes + 1), tokens, maxDepth);
    }

    /**
     * The trie of a model's tokenizer: every token but the end-of-generation ones (which the grammar
     * allows separately) with the bytes it adds to generated text.
     *
     * @param vocabSize the model's vocabulary (its logits), at least the tokenizer's: ids past the
     *     tokenizer's are never allowed
     */
    public static VocabularyTrie ofTokenizer(Tokenizer tokenizer, int vocabSize) {
        byte[][] bytes = new byte[vocabSize][];
        for (int t = 0; t < tokenizer.vocabSize(); t++) {
            if (!tokenizer.isEndOfGeneration(t)) {
                bytes[t] = tokenizer.generatedBytes(t);
            }
        }
        return of(bytes);
    }

    /** Token ids 0 to {@code vocabSize() - 1}. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Longs a bitset over the vocabulary takes: {@code ceil(vocabSize / 64)}. */
    public int maskWords() {
        return (vocabSize + 63) >>> 6;
    }

    /** The text bytes of {@code token}, or null for a token the grammar never uses. Not a copy. */
    byte[] bytes(int token) {
        return bytesOf[token];
    }
}
