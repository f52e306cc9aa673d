package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A grammar's rules as one byte automaton with calls (a recursive transition network), built by
 * Thompson's construction: each state has byte edges, epsilon edges, or a call of a rule that
 * returns to a given state. {@link StateGraph} runs it with a stack of return states, so recursive
 * rules (nested JSON, {@code $ref} cycles) need no bound on nesting other than the graph's.
 *
 * <p>A repetition of a large item many times ({@code maxItems}, long bounded strings of objects)
 * would copy the item's states once per repetition; such an item becomes a rule of its own and is
 * called instead, which costs a stack frame while it is matched but keeps the automaton linear in
 * the grammar. Immutable once built; thread safe.
 */
final class Nfa {
    /** Most states an automaton may have: a schema needing more is refused, not run slowly. */
    static final int MAX_STATES = 400_000;
    /** A repeated item is called as a rule when its copies would take more states than this. */
    private static final int SHARE_ABOVE_STATES = 2048;

    final int rootRule;
    final int[] ruleStart;
    final int[] ruleEnd;
    /** Per state: its byte edges are {@code [edgeFrom[s], edgeFrom[s + 1])}. */
    final int[] edgeFrom;
    final ByteSet[] edgeBytes;
    final int[] edgeTarget;
    /** Per state: its epsilon edges are {@code epsTarget[epsFrom[s] .. epsFrom[s + 1])}. */
    final int[] epsFrom;
    final int[] epsTarget;
    /** Per state: the rule it calls, or -1; and the state the call returns to. */
    final int[] callRule;
    final int[] callReturn;
    /** Per state: the rule whose last state it is, or -1. */
    final int[] endOfRule;

    private Nfa(Builder b) {
        int n = b.states;
        rootRule = 0;
        ruleStart = b.ruleStart.stream().mapToInt(Integer::intValue).toArray();
        ruleEnd = b.ruleEnd.stream().mapToInt(Integer::intValue).toArray();
        edgeFrom = new int[n + 1];
        epsFrom = new int[n + 1];
        for (int s = 0; s < n; s++) {
            edgeFrom[s + 1] = edgeFrom[s] + b.edges.get(s).size();
            epsFrom[s + 1] = epsFrom[s] + b.eps.get(s).size();
        }
        edgeBytes = new ByteSet[edgeFrom[n]];
        edgeTarget = new int[edgeFrom[n]];
        epsTarget = new int[epsFrom[n]];
        for (int s = 0; s < n; s++) {
            int e = edgeFrom[s];
            for (long[] edge : b.edges.get(s)) {
                edgeBytes[e] = b.edgeSets.get((int) edge[0]);
                edgeTarget[e++] = (int) edge[1];
            }
            int p = epsFrom[s];
            for (int t : b.eps.get(s)) {
                epsTarget[p++] = t;
            }
        }
        callRule = Arrays.copyOf(b.callRule, n);
        callReturn = Arrays.copyOf(b.callReturn, n);
        endOfRule = new int[n];
        Arrays.fill(endOfRule, -1);
        for (int r = 0; r < ruleEnd.length; r++) {
            endOfRule[ruleEnd[r]] = r;
        }
    }

    /**
     * Builds the automaton of {@code rules}; rule 0 is the root.
     *
     * @throws GrammarException if it would exceed {@link #MAX_STATES}
     */
    static Nfa build(List<Expr> rules) {
        Builder b = new Builder(rules);
        for (int r = 0; r < b.rules.size(); r++) {
            int start = b.newState();
            int end = b.compile(b.rules.get(r), start);
            b.ruleStart.add(start);
            b.ruleEnd.add(end);
        }
        return new Nfa(b);
    }

    /** About how many states {@code e} takes when compiled (capped just above {@link #MAX_STATES}). */
    static long estimateStates(Expr e) {
        return Builder.size(e);
    }

    int stateCount() {
        return endOfRule.length;
    }

    /** Whether state {@code s} has a byte edge (a thread there can consume input). */
    boolean consumes(int s) {
        return edgeFrom[s + 1] > edgeFrom[s];
    }

    private static final class Builder {
        final List<Expr> rules;
        /** Items made rules of their own, so that repetitions call them instead of copying them. */
        final Map<Expr, Integer> sharedItems = new IdentityHashMap<>();
        final List<Integer> ruleStart = new ArrayList<>();
        final List<Integer> ruleEnd = new ArrayList<>();
        final List<List<long[]>> edges = new ArrayList<>();
        final List<ByteSet> edgeSets = new ArrayList<>();
        final Map<ByteSet, Integer> edgeSetIds = new java.util.HashMap<>();
        final List<List<Integer>> eps = new ArrayList<>();
        int[] callRule = new int[64];
        int[] callReturn = new int[64];
        int states;

        Builder(List<Expr> rules) {
            this.rules = new ArrayList<>(rules);
        }

        int newState() {
            if (states == MAX_STATES) {
                throw new GrammarException("the constraint is too large: its automaton would need more than "
                        + MAX_STATES + " states; lower the repetition counts (maxLength, maxItems, {n,m})");
            }
            if (states == callRule.length) {
                callRule = Arrays.copyOf(callRule, 2 * states);
                callReturn = Arrays.copyOf(callReturn, 2 * states);
            }
            callRule[states] = -1;
            edges.add(new ArrayList<>(1));
            eps.add(new ArrayList<>(1));
            return states++;
        }

        void edge(int from, ByteSet set, int to) {
            int id = edgeSetIds.computeIfAbsent(set, s -> {
                edgeSets.add(s);
                return edgeSets.size() - 1;
            });
            edges.get(from).add(new long[] {id, to});
        }

        void eps(int from, int to) {
            eps.get(from).add(to);
        }

        /** Adds the states of {@code e} after {@code from}; returns the state where it ends. */
        int compile(Expr e, int from) {
            return switch (e) {
                case Expr.Bytes bytes -> {
                    int to = newState();
                    edge(from, bytes.set(), to);
                    yield to;
                }
                case Expr.Seq seq -> {
                    int cur = from;
                    for (Expr item : seq.items()) {
                        cur = compile(item, cur);
                    }
                    yield cur;
                }
                case Expr.Alt alt -> {
                    int end = newState();
                    for (Expr option : alt.options()) {
                        int start = newState();
                        eps(from, start);
                        eps(compile(option, start), end);
                    }
                    yield end;
                }
                case Expr.Repeat repeat -> repetition(repeat, from);
                case Expr.Ref ref -> {
                    if (ref.rule() < 0 || ref.rule() >= rules.size()) {
                        throw new IllegalArgumentException("reference to rule " + ref.rule() + " of " + rules.size());
                    }
                    int call = newState();
                    int back = newState();
                    eps(from, call);
                    callRule[call] = ref.rule();
                    callReturn[call] = back;
                    yield back;
                }
            };
        }

        private int repetition(Expr.Repeat repeat, int from) {
            Expr item = repeat.item();
            int copies = repeat.max() == Expr.UNBOUNDED ? repeat.min() + 1 : repeat.max();
            if (copies > 1 && !(item instanceof Expr.Ref) && size(item) * copies > SHARE_ABOVE_STATES) {
                item = new Expr.Ref(sharedItems.computeIfAbsent(repeat.item(), i -> {
                    rules.add(i);
                    return rules.size() - 1;
                }));
            }
            int cur = from;
            for (int i = 0; i < repeat.min(); i++) {
                cur = compile(item, cur);
            }
            int end = newState();
            if (repeat.max() == Expr.UNBOUNDED) {
                int loop = newState();
                eps(cur, loop);
                eps(compile(item, loop), loop);
                eps(loop, end);
                return end;
            }
            eps(cur, end);
            for (int i = repeat.min(); i < repeat.max(); i++) {
                cur = compile(item, cur);
                eps(cur, end);
            }
            return end;
        }

        /** States {@link #compile} would add for {@code e}, at most a little over the limit. */
        static long size(Expr e) {
            long n = switch (e) {
                case Expr.Bytes b -> 1;
                case Expr.Seq s -> s.items().stream().mapToLong(Builder::size).sum();
                case Expr.Alt a -> 1 + a.options().stream().mapToLong(o -> 1 + size(o)).sum();
                case Expr.Repeat r -> 2 + size(r.item())
                        * Math.min(r.max() == Expr.UNBOUNDED ? r.min() + 1L : r.max(), SHARE_ABOVE_STATES + 1L);
                case Expr.Ref r -> 2;
            };
            return Math.min(n, MAX_STATES + 1L);
        }
    }
}
