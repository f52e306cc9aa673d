package io.batchllm.engine.grammar;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A compiled output constraint: the language of texts a constrained choice may generate (JSON that
 * validates against a schema, a regex's matches, one of a few labels), as a byte automaton. Build one
 * with {@link Grammars}; it is compiled once per distinct constraint and shared by every request that
 * uses it. Matching against a model's vocabulary is {@link GrammarMatcher}'s work.
 *
 * <p>Immutable and thread safe.
 */
public final class Grammar {
    private final String description;
    final Nfa nfa;

    /**
     * @param rules the grammar's rules, rule 0 the whole text
     * @throws GrammarException if a rule can call itself before consuming any byte (left recursion,
     *     as a schema whose {@code $ref} leads back to itself without any text in between), or the
     *     automaton is too large
     */
    Grammar(List<Expr> rules, String description) {
        this.description = description;
        refuseLeftRecursion(rules);
        this.nfa = Nfa.build(rules);
    }

    /** What it constrains to, for messages: {@code "JSON Schema"}, {@code "regex [a-z]+"}, … */
    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return "Grammar[" + description + ", " + nfa.stateCount() + " states]";
    }

    /**
     * Refuses rules that reach themselves before consuming a byte: running them would push return
     * states forever. Finds which rules can match the empty string (a fixpoint), then which rules each
     * one can call first, and looks for a cycle.
     */
    private static void refuseLeftRecursion(List<Expr> rules) {
        int n = rules.size();
        BitSet nullable = new BitSet(n);
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int r = 0; r < n; r++) {
                if (!nullable.get(r) && nullable(rules.get(r), nullable)) {
                    nullable.set(r);
                    changed = true;
                }
            }
        }
        List<BitSet> first = new ArrayList<>(n);
        for (Expr rule : rules) {
            BitSet calls = new BitSet(n);
            firstCalls(rule, nullable, calls);
            first.add(calls);
        }
        int[] mark = new int[n]; // 0 unseen, 1 on the path, 2 done
        for (int r = 0; r < n; r++) {
            if (mark[r] == 0 && cycleFrom(r, first, mark)) {
                throw new GrammarException("the schema refers to itself ($ref) before any text is generated, so no"
                        + " output could ever end; put the recursion inside a property or an array item");
            }
        }
    }

    private static boolean cycleFrom(int r, List<BitSet> first, int[] mark) {
        mark[r] = 1;
        for (int c = first.get(r).nextSetBit(0); c >= 0; c = first.get(r).nextSetBit(c + 1)) {
            if (mark[c] == 1 || mark[c] == 0 && cycleFrom(c, first, mark)) {
                return true;
            }
        }
        mark[r] = 2;
        return false;
    }

    private static boolean nullable(Expr e, BitSet nullableRules) {
        return switch (e) {
            case Expr.Bytes b -> false;
            case Expr.Seq s -> s.items().stream().allMatch(i -> nullable(i, nullableRules));
            case Expr.Alt a -> a.options().stream().anyMatch(o -> nullable(o, nullableRules));
            case Expr.Repeat r -> r.min() == 0 || nullable(r.item(), nullableRules);
            case Expr.Ref r -> nullableRules.get(r.rule());
        };
    }

    /** Adds to {@code out} the rules {@code e} can call before consuming a byte. */
    private static void firstCalls(Expr e, BitSet nullableRules, BitSet out) {
        switch (e) {
            case Expr.Bytes b -> { }
            case Expr.Seq s -> {
                for (Expr item : s.items()) {
                    firstCalls(item, nullableRules, out);
                    if (!nullable(item, nullableRules)) {
                        break;
                    }
                }
            }
            case Expr.Alt a -> a.options().forEach(o -> firstCalls(o, nullableRules, out));
            case Expr.Repeat r -> {
                if (r.max() != 0) {
                    firstCalls(r.item(), nullableRules, out);
                }
            }
            case Expr.Ref r -> out.set(r.rule());
        }
    }
}
