package io.batchllm.engine.chat.jinja;

import io.batchllm.engine.chat.jinja.Node.Args;
import io.batchllm.engine.chat.jinja.Node.Binary;
import io.batchllm.engine.chat.jinja.Node.Branch;
import io.batchllm.engine.chat.jinja.Node.Break;
import io.batchllm.engine.chat.jinja.Node.Call;
import io.batchllm.engine.chat.jinja.Node.CallBlock;
import io.batchllm.engine.chat.jinja.Node.Compare;
import io.batchllm.engine.chat.jinja.Node.Concat;
import io.batchllm.engine.chat.jinja.Node.CondExpr;
import io.batchllm.engine.chat.jinja.Node.Const;
import io.batchllm.engine.chat.jinja.Node.Continue;
import io.batchllm.engine.chat.jinja.Node.Data;
import io.batchllm.engine.chat.jinja.Node.DictExpr;
import io.batchllm.engine.chat.jinja.Node.Expr;
import io.batchllm.engine.chat.jinja.Node.Filter;
import io.batchllm.engine.chat.jinja.Node.FilterBlock;
import io.batchllm.engine.chat.jinja.Node.For;
import io.batchllm.engine.chat.jinja.Node.Generation;
import io.batchllm.engine.chat.jinja.Node.GetAttr;
import io.batchllm.engine.chat.jinja.Node.GetItem;
import io.batchllm.engine.chat.jinja.Node.If;
import io.batchllm.engine.chat.jinja.Node.Keyword;
import io.batchllm.engine.chat.jinja.Node.ListExpr;
import io.batchllm.engine.chat.jinja.Node.Logical;
import io.batchllm.engine.chat.jinja.Node.MacroDef;
import io.batchllm.engine.chat.jinja.Node.MacroSpec;
import io.batchllm.engine.chat.jinja.Node.Name;
import io.batchllm.engine.chat.jinja.Node.NsRef;
import io.batchllm.engine.chat.jinja.Node.Print;
import io.batchllm.engine.chat.jinja.Node.Set;
import io.batchllm.engine.chat.jinja.Node.SetBlock;
import io.batchllm.engine.chat.jinja.Node.Slice;
import io.batchllm.engine.chat.jinja.Node.Stmt;
import io.batchllm.engine.chat.jinja.Node.Test;
import io.batchllm.engine.chat.jinja.Node.TupleExpr;
import io.batchllm.engine.chat.jinja.Node.Unary;
import io.batchllm.engine.chat.jinja.Node.With;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.Consumer;

/** Walks over a parsed template: the checks jinja2's compiler makes, and the names a body reads. */
final class Nodes {
    private Nodes() {
    }

    /**
     * Refuses filters and tests that do not exist, as jinja2's compiler does, except directly inside
     * an {@code if} (test or body) or a conditional expression, where jinja2 only fails if they run.
     */
    static void checkFiltersAndTests(List<Stmt> body) {
        body.forEach(s -> check(s, false));
    }

    private static void check(Node node, boolean soft) {
        switch (node) {
            case Filter f -> {
                if (!soft && !Filters.exists(f.name())) {
                    throw JinjaException.syntax("No filter named '" + f.name() + "'.", f.line());
                }
                children(f, child -> check(child, soft));
            }
            case Test t -> {
                if (!soft && !Tests.exists(t.name())) {
                    throw JinjaException.syntax("No test named '" + t.name() + "'.", t.line());
                }
                children(t, child -> check(child, soft));
            }
            case If i -> children(i, child -> check(child, true));
            case CondExpr c -> children(c, child -> check(child, true));
            case For f -> {
                check(f.iterable(), soft);
                f.otherwise().forEach(s -> check(s, soft));
                check(f.target(), false);
                if (f.filter() != null) {
                    check(f.filter(), false);
                }
                f.body().forEach(s -> check(s, false));
            }
            case Expr e -> children(e, child -> check(child, soft));
            case Print p -> check(p.expr(), soft);
            case Set s -> children(s, child -> check(child, soft));
            default -> children(node, child -> check(child, false));
        }
    }

    /** Which of {@code names} the statements read anywhere, nested macros included. */
    static java.util.Set<String> namesRead(List<Stmt> body, java.util.Set<String> names) {
        java.util.Set<String> found = new HashSet<>();
        Consumer<Node> visit = new Consumer<>() {
            @Override
            public void accept(Node n) {
                if (n instanceof Name name && names.contains(name.name())) {
                    found.add(name.name());
                }
                children(n, this);
            }
        };
        body.forEach(visit);
        return found;
    }

    /** Calls {@code action} on each direct child of {@code node}. */
    static void children(Node node, Consumer<Node> action) {
        List<Node> kids = new ArrayList<>();
        switch (node) {
            case Data d -> { }
            case Print p -> kids.add(p.expr());
            case If i -> {
                for (Branch b : i.branches()) {
                    kids.add(b.test());
                    kids.addAll(b.body());
                }
                kids.addAll(i.otherwise());
            }
            case For f -> {
                kids.add(f.target());
                kids.add(f.iterable());
                if (f.filter() != null) {
                    kids.add(f.filter());
                }
                kids.addAll(f.body());
                kids.addAll(f.otherwise());
            }
            case Set s -> {
                kids.add(s.target());
                kids.add(s.value());
            }
            case SetBlock s -> {
                kids.add(s.target());
                if (s.filter() != null) {
                    kids.add(s.filter());
                }
                kids.addAll(s.body());
            }
            case MacroDef m -> macro(m.spec(), kids);
            case CallBlock c -> {
                macro(c.caller(), kids);
                kids.add(c.call());
            }
            case FilterBlock f -> {
                kids.add(f.filter());
                kids.addAll(f.body());
            }
            case With w -> {
                kids.addAll(w.targets());
                kids.addAll(w.values());
                kids.addAll(w.body());
            }
            case Generation g -> kids.addAll(g.body());
            case Break b -> { }
            case Continue c -> { }
            case Const c -> { }
            case Name n -> { }
            case NsRef n -> { }
            case GetAttr g -> kids.add(g.object());
            case GetItem g -> {
                kids.add(g.object());
                kids.add(g.key());
            }
            case Slice s -> {
                for (Expr e : new Expr[] {s.start(), s.stop(), s.step()}) {
                    if (e != null) {
                        kids.add(e);
                    }
                }
            }
            case Call c -> {
                kids.add(c.callee());
                args(c.args(), kids);
            }
            case Filter f -> {
                if (f.value() != null) {
                    kids.add(f.value());
                }
                args(f.args(), kids);
            }
            case Test t -> {
                kids.add(t.value());
                args(t.args(), kids);
            }
            case Unary u -> kids.add(u.operand());
            case Binary b -> {
                kids.add(b.left());
                kids.add(b.right());
            }
            case Logical l -> {
                kids.add(l.left());
                kids.add(l.right());
            }
            case Compare c -> {
                kids.add(c.first());
                kids.addAll(c.operands());
            }
            case Concat c -> kids.addAll(c.parts());
            case CondExpr c -> {
                kids.add(c.then());
                kids.add(c.test());
                if (c.otherwise() != null) {
                    kids.add(c.otherwise());
                }
            }
            case ListExpr l -> kids.addAll(l.items());
            case TupleExpr t -> kids.addAll(t.items());
            case DictExpr d -> {
                kids.addAll(d.keys());
                kids.addAll(d.values());
            }
        }
        kids.forEach(action);
    }

    private static void macro(MacroSpec spec, List<Node> kids) {
        kids.addAll(spec.defaults());
        kids.addAll(spec.body());
    }

    private static void args(Args args, List<Node> kids) {
        kids.addAll(args.positional());
        for (Keyword k : args.keywords()) {
            kids.add(k.value());
        }
        if (args.starArgs() != null) {
            kids.add(args.starArgs());
        }
        if (args.starKwargs() != null) {
            kids.add(args.starKwargs());
        }
    }
}
