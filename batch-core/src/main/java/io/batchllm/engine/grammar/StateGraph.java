package io.batchllm.engine.grammar;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs an {@link Nfa} with call stacks, one byte at a time, and interns the resulting
 * {@link State}s. Stacks are shared, interned linked lists (a return state and the rest), so a
 * thread is two ints. The epsilon closure follows epsilon edges, calls (pushing the return state)
 * and rule ends (popping it); a thread whose stack would grow past {@link #MAX_STACK_DEPTH} is
 * dropped, which only forbids nesting deeper than that.
 *
 * <p>Not thread safe: one engine thread runs a graph.
 */
final class StateGraph {
    /** Deepest call nesting followed: JSON nested deeper than about a hundred levels is not generated. */
    static final int MAX_STACK_DEPTH = 512;

    private final Nfa nfa;
    private int[] stackParent = new int[64];
    private int[] stackReturn = new int[64];
    private int[] stackDepth = new int[64];
    private int stackCount = 1; // stack 0 is the empty stack
    private final Map<Long, Integer> stackIds = new HashMap<>();
    private final Map<Key, State> states = new HashMap<>();
    private final State start;

    // scratch for the closure, reused
    private long[] work = new long[64];
    private long[] out = new long[64];
    private final LongSet seen = new LongSet();

    StateGraph(Nfa nfa) {
        this.nfa = nfa;
        work[0] = nfa.ruleStart[nfa.rootRule]; // on the empty stack
        this.start = closure(1);
    }

    /** The state before any text. */
    State start() {
        return start;
    }

    /** States interned so far. */
    int size() {
        return states.size();
    }

    /** Whether some thread of {@code state} has an edge for byte {@code b}: {@link State#next} is not dead. */
    boolean allows(State state, int b) {
        for (long thread : state.threads) {
            int s = (int) thread;
            for (int e = nfa.edgeFrom[s]; e < nfa.edgeFrom[s + 1]; e++) {
                if (nfa.edgeBytes[e].contains(b)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The state after byte {@code b} from {@code from} (computed, not cached: see {@link State#next}). */
    State step(State from, int b) {
        int seeds = 0;
        for (long thread : from.threads) {
            int s = (int) thread;
            long stack = thread & 0xFFFF_FFFF_0000_0000L;
            for (int e = nfa.edgeFrom[s]; e < nfa.edgeFrom[s + 1]; e++) {
                if (nfa.edgeBytes[e].contains(b)) {
                    work = grow(work, seeds);
                    work[seeds++] = stack | nfa.edgeTarget[e];
                }
            }
        }
        return seeds == 0 ? State.DEAD : closure(seeds);
    }

    /** The interned state of the closure of the first {@code seeds} threads in {@link #work}. */
    private State closure(int seeds) {
        seen.clear();
        int top = seeds;
        int count = 0;
        boolean accepting = false;
        while (top > 0) {
            long thread = work[--top];
            if (!seen.add(thread)) {
                continue;
            }
            int s = (int) thread;
            int k = (int) (thread >>> 32);
            if (nfa.consumes(s)) {
                out = grow(out, count);
                out[count++] = thread;
            }
            for (int p = nfa.epsFrom[s]; p < nfa.epsFrom[s + 1]; p++) {
                work = grow(work, top);
                work[top++] = (long) k << 32 | nfa.epsTarget[p];
            }
            int rule = nfa.callRule[s];
            if (rule >= 0 && stackDepth[k] < MAX_STACK_DEPTH) {
                work = grow(work, top);
                work[top++] = (long) push(nfa.callReturn[s], k) << 32 | nfa.ruleStart[rule];
            }
            int ended = nfa.endOfRule[s];
            if (ended >= 0) {
                if (k == 0) {
                    accepting |= ended == nfa.rootRule;
                } else {
                    work = grow(work, top);
                    work[top++] = (long) stackParent[k] << 32 | stackReturn[k];
                }
            }
        }
        if (count == 0 && !accepting) {
            return State.DEAD;
        }
        long[] threads = Arrays.copyOf(out, count);
        Arrays.sort(threads);
        Key key = new Key(threads, accepting);
        State state = states.get(key);
        if (state == null) {
            state = new State(this, threads, accepting);
            states.put(key, state);
        }
        return state;
    }

    /** The id of the stack {@code returnState} on top of stack {@code parent}. */
    private int push(int returnState, int parent) {
        long key = (long) parent << 32 | returnState;
        Integer id = stackIds.get(key);
        if (id != null) {
            return id;
        }
        if (stackCount == stackParent.length) {
            stackParent = Arrays.copyOf(stackParent, 2 * stackCount);
            stackReturn = Arrays.copyOf(stackReturn, 2 * stackCount);
            stackDepth = Arrays.copyOf(stackDepth, 2 * stackCount);
        }
        int idNew = stackCount++;
        stackParent[idNew] = parent;
        stackReturn[idNew] = returnState;
        stackDepth[idNew] = stackDepth[parent] + 1;
        stackIds.put(key, idNew);
        return idNew;
    }

    private static long[] grow(long[] a, int used) {
        return used < a.length ? a : Arrays.copyOf(a, 2 * a.length);
    }

    private record Key(long[] threads, boolean accepting) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.accepting == accepting && Arrays.equals(k.threads, threads);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(threads) + (accepting ? 1 : 0);
        }
    }

    /** An open-addressing set of longs, cleared in O(capacity) between closures. */
    private static final class LongSet {
        private static final long FREE = Long.MIN_VALUE;
        private long[] slots = newTable(64);
        private int size;

        void clear() {
            if (size > 0) {
                Arrays.fill(slots, FREE);
                size = 0;
            }
        }

        boolean add(long v) {
            int mask = slots.length - 1;
            int i = (int) (v * 0x9E3779B97F4A7C15L >>> 40) & mask;
            while (slots[i] != FREE) {
                if (slots[i] == v) {
                    return false;
                }
                i = (i + 1) & mask;
            }
            slots[i] = v;
            if (2 * ++size > slots.length) {
                long[] old = slots;
                slots = newTable(2 * old.length);
                size = 0;
                for (long x : old) {
                    if (x != FREE) {
                        add(x);
                    }
                }
            }
            return true;
        }

        private static long[] newTable(int n) {
            long[] t = new long[n];
            Arrays.fill(t, FREE);
            return t;
        }
    }
}
