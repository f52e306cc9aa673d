package io.batchllm.engine.model;

import java.util.Arrays;

/**
 * Sliding-window attention: on the layers it covers, the token at position {@code p} attends only to
 * positions {@code p - size + 1 .. p} (llama.cpp masks {@code p - p' >= size}); other layers attend
 * to every earlier position. The KV cache still holds every position (a shared prefix's blocks are
 * the same whoever reads them, and a global layer reads them all), so the window only narrows the
 * range each covered layer reads.
 *
 * @param size positions in the window, at least 1; {@link #NONE} for no window
 * @param layers per layer, whether the window applies (copied)
 */
public record SlidingWindow(int size, boolean[] layers) {

    /** No sliding window on any layer. */
    public static final SlidingWindow NONE = new SlidingWindow(Integer.MAX_VALUE, new boolean[0]);

    public SlidingWindow {
        if (size < 1) {
            throw new IllegalArgumentException("a sliding window must hold at least 1 position, is " + size);
        }
        layers = layers.clone();
    }

    @Override
    public boolean[] layers() {
        return layers.clone();
    }

    /** Whether layer {@code layer} attends through the window. */
    public boolean covers(int layer) {
        return layer < layers.length && layers[layer];
    }

    /** The first position the token at {@code position} attends to on {@code layer}. */
    public int firstVisible(int layer, int position) {
        return covers(layer) ? Math.max(0, position - size + 1) : 0;
    }

    /** Whether any layer has the window. */
    public boolean any() {
        for (boolean l : layers) {
            if (l) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlidingWindow w && w.size == size && Arrays.equals(w.layers, layers);
    }

    @Override
    public int hashCode() {
        return size * 31 + Arrays.hashCode(layers);
    }

    @Override
    public String toString() {
        return any() ? "SlidingWindow[" + size + " on layers " + Arrays.toString(layers) + "]" : "SlidingWindow[none]";
    }
}
