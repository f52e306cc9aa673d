package io.batchllm.internal;

import java.util.Collection;

/**
 * "Did you mean …?" for refused names (request fields, options): the known name closest to a typo.
 * Stateless and thread safe.
 */
public final class Suggestions {
    private Suggestions() {
    }

    /**
     * The name in {@code known} with the smallest edit distance to {@code name}, if that distance is
     * small enough to be a typo (at most a third of the name's length, and at least 1); null
     * otherwise. Ties go to the earlier name.
     */
    public static String closest(String name, Collection<String> known) {
        String best = null;
        int bestDistance = Math.max(1, name.length() / 3) + 1;
        for (String candidate : known) {
            int d = distance(name, candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance: insertions, deletions and substitutions, each costing 1. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
