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
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a parsed template: statements write to an {@link Output}, expressions evaluate with
 * {@link Py}'s semantics, names resolve through the {@link Scope} chain, then the render's
 * variables, then the {@link Globals}. Every statement and expression is a step of the
 * {@link Budget}, and nesting is counted, so a render ends within its {@link Limits}.
 *
 * <p>Template text, and the values of variables, are only ever data: nothing a render reads is
 * parsed as template code.
 *
 * <p>One renderer per render; not thread safe.
 */
final class Renderer {
    private enum Flow { NORMAL, BREAK, CONTINUE }

    private final Map<String, Object> variables;
    private final Clock clock;
    private final Budget budget;

    Renderer(Map<String, Object> variables, Clock clock, Limits limits) {
        this.variables = variables;
        this.clock = clock;
        this.budget = new Budget(limits);
    }

    Budget budget() {
        return budget;
    }

    String render(List<Stmt> body) {
        Output out = new Output(budget);
        exec(body, new Scope(null), out);
        return out.toString();
    }

    /** Runs a body (a macro's) in {@code scope} and returns what it wrote. */
    String capture(List<Stmt> body, Scope scope) {
        Output out = new Output(budget);
        exec(body, scope, out);
        return out.toString();
    }

    // --- statements ---

    private Flow exec(List<Stmt> body, Scope scope, Output out) {
        budget.enter();
        try {
            for (Stmt s : body) {
                Flow flow = exec(s, scope, out);
                if (flow != Flow.NORMAL) {
                    return flow;
                }
            }
            return Flow.NORMAL;
        } finally {
            budget.leave();
        }
    }

    private Flow exec(Stmt stmt, Scope scope, Output out) {
        budget.step();
        try {
            return switch (stmt) {
                case Data d -> {
                    out.append(d.text());
                    yield Flow.NORMAL;
                }
                case Print p -> {
                    out.append(PyRepr.str(eval(p.expr(), scope)));
                    yield Flow.NORMAL;
                }
                case If i -> execIf(i, scope, out);
                case For f -> execFor(f, scope, out);
                case Set s -> {
                    assign(s.target(), eval(s.value(), scope), scope);
                    yield Flow.NORMAL;
                }
                case SetBlock s -> {
                    Object value = capture(s.body(), new Scope(scope));
                    if (s.filter() != null) {
                        value = filter((Filter) s.filter(), scope, value);
                    }
                    assign(s.target(), value, scope);
                    yield Flow.NORMAL;
                }
                case MacroDef m -> {
                    scope.set(m.spec().name(), new Macro(m.spec(), scope));
                    yield Flow.NORMAL;
                }
                case CallBlock c -> {
                    Object callee = eval(c.call().callee(), scope);
                    List<Object> args = new ArrayList<>();
                    Map<String, Object> kwargs = new LinkedHashMap<>();
                    evalArgs(c.call().args(), scope, args, kwargs);
                    kwargs.put("caller", new Macro(c.caller(), scope));
                    out.append(PyRepr.str(call(callee, args, kwargs)));
                    yield Flow.NORMAL;
                }
                case FilterBlock f -> {
                    String body = capture(f.body(), new Scope(scope));
                    out.append(PyRepr.str(filter((Filter) f.filter(), scope, body)));
                    yield Flow.NORMAL;
                }
                case With w -> {
                    Scope inner = new Scope(scope);
                    for (int i = 0; i < w.targets().size(); i++) {
                        assign(w.targets().get(i), eval(w.values().get(i), scope), inner);
                    }
                    yield exec(w.body(), inner, out);
                }
                case Generation g -> exec(g.body(), scope, out);
                case Break b -> Flow.BREAK;
                case Continue c -> Flow.CONTINUE;
            };
        } catch (JinjaException e) {
            throw e.at(stmt.line());
        }
    }

    private Flow execIf(If stmt, Scope scope, Output out) {
        for (Branch branch : stmt.branches()) {
            if (Py.truthy(eval(branch.test(), scope))) {
                return exec(branch.body(), scope, out);
            }
        }
        return exec(stmt.otherwise(), scope, out);
    }

    private Flow execFor(For loop, Scope scope, Output out) {
        List<Object> items = new ArrayList<>();
        Iterator<Object> it = Py.iterate(eval(loop.iterable(), scope));
        while (it.hasNext()) {
            budget.step();
            Object item = it.next();
            if (loop.filter() != null) {
                Scope test = new Scope(scope);
                assign(loop.target(), item, test);
                if (!Py.truthy(eval(loop.filter(), test))) {
                    continue;
                }
            }
            items.add(item);
        }
        budget.elements(items.size());
        if (items.isEmpty()) {
            return exec(loop.otherwise(), new Scope(scope), out);
        }
        LoopContext context = new LoopContext(Collections.unmodifiableList(items));
        for (int i = 0; i < items.size(); i++) {
            context.moveTo(i);
            Scope iteration = new Scope(scope);
            assign(loop.target(), items.get(i), iteration);
            iteration.set("loop", context);
            if (exec(loop.body(), iteration, out) == Flow.BREAK) {
                break;
            }
        }
        return Flow.NORMAL;
    }

    /** {@code set}/{@code for}/{@code with} targets: a name, a tuple to unpack, or {@code ns.attr}. */
    private void assign(Expr target, Object value, Scope scope) {
        switch (target) {
            case Name n -> scope.set(n.name(), value);
            case NsRef ref -> {
                Object ns = resolve(ref.name(), scope);
                if (!(ns instanceof Namespace namespace)) {
                    throw JinjaException.runtime("TemplateRuntimeError", "cannot assign attribute on non-namespace"
                            + " object");
                }
                namespace.attributes.put(ref.attr(), value);
            }
            case TupleExpr t -> {
                if (!Py.isIterable(value)) {
                    throw JinjaException.typeError("cannot unpack non-iterable " + Py.typeName(value) + " object");
                }
                List<Object> items = Py.toList(value);
                int expected = t.items().size();
                if (items.size() < expected) {
                    throw JinjaException.runtime("ValueError", "not enough values to unpack (expected " + expected
                            + ", got " + items.size() + ")");
                }
                if (items.size() > expected) {
                    throw JinjaException.runtime("ValueError", "too many values to unpack (expected " + expected + ")");
                }
                for (int i = 0; i < expected; i++) {
                    assign(t.items().get(i), items.get(i), scope);
                }
            }
            default -> throw JinjaException.syntax("can't assign to this expression", target.line());
        }
    }

    // --- expressions ---

    Object eval(Expr expr, Scope scope) {
        budget.step();
        budget.enter();
        try {
            return evalInner(expr, scope);
        } catch (JinjaException e) {
            throw e.at(expr.line());
        } finally {
            budget.leave();
        }
    }

    private Object evalInner(Expr expr, Scope scope) {
        return switch (expr) {
            case Const c -> c.value();
            case Name n -> resolve(n.name(), scope);
            case GetAttr g -> Methods.getattr(eval(g.object(), scope), g.attr());
            case GetItem g -> {
                Object object = eval(g.object(), scope);
                Object key = g.key() instanceof Slice s ? slice(s, scope) : eval(g.key(), scope);
                yield Methods.getitem(object, key);
            }
            case Call c -> {
                Object callee = eval(c.callee(), scope);
                List<Object> args = new ArrayList<>();
                Map<String, Object> kwargs = new LinkedHashMap<>();
                evalArgs(c.args(), scope, args, kwargs);
                yield call(callee, args, kwargs);
            }
            case Filter f -> filter(f, scope, null);
            case Test t -> {
                Object value = eval(t.value(), scope);
                List<Object> args = new ArrayList<>();
                Map<String, Object> kwargs = new LinkedHashMap<>();
                evalArgs(t.args(), scope, args, kwargs);
                yield Tests.apply(budget, t.name(), value, args, kwargs);
            }
            case Unary u -> {
                Object v = eval(u.operand(), scope);
                yield switch (u.op()) {
                    case "not" -> !Py.truthy(v);
                    case "-" -> Py.negate(v);
                    default -> Py.plus(v);
                };
            }
            case Binary b -> binary(b.op(), eval(b.left(), scope), eval(b.right(), scope));
            case Logical l -> {
                Object left = eval(l.left(), scope);
                yield l.isAnd() != Py.truthy(left) ? left : eval(l.right(), scope);
            }
            case Compare c -> compare(c, scope);
            case Concat c -> {
                StringBuilder out = new StringBuilder();
                for (Expr part : c.parts()) {
                    String s = PyRepr.str(eval(part, scope));
                    budget.chars(out.length() + (long) s.length());
                    out.append(s);
                }
                yield out.toString();
            }
            case CondExpr c -> {
                if (Py.truthy(eval(c.test(), scope))) {
                    yield eval(c.then(), scope);
                }
                yield c.otherwise() != null ? eval(c.otherwise(), scope) : Undefined.hinted("the inline if-expression"
                        + " on line " + c.line() + " evaluated to false and no else section was defined.");
            }
            case ListExpr l -> {
                budget.elements(l.items().size());
                List<Object> items = new ArrayList<>(l.items().size());
                for (Expr item : l.items()) {
                    items.add(eval(item, scope));
                }
                yield Collections.unmodifiableList(items);
            }
            case TupleExpr t -> {
                budget.elements(t.items().size());
                List<Object> items = new ArrayList<>(t.items().size());
                for (Expr item : t.items()) {
                    items.add(eval(item, scope));
                }
                yield new PyTuple(items);
            }
            case DictExpr d -> {
                budget.elements(d.keys().size());
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    Object key = eval(d.keys().get(i), scope);
                    DictKeys.requireHashable(key);
                    Object value = eval(d.values().get(i), scope);
                    Object existing = existingKey(map, key);
                    map.put(existing != null ? existing : key, value);
                }
                yield Collections.unmodifiableMap(map);
            }
            case NsRef n -> throw JinjaException.syntax("'" + n.name() + "." + n.attr() + "' can only be assigned to",
                    n.line());
            case Slice s -> throw JinjaException.syntax("a slice is only allowed inside []", s.line());
        };
    }

    /** The key already in {@code map} that Python would consider equal to {@code key}, or null. */
    private static Object existingKey(Map<Object, Object> map, Object key) {
        if (map.containsKey(key)) {
            return key;
        }
        for (Object k : map.keySet()) {
            if (Py.eq(k, key)) {
                return k;
            }
        }
        return null;
    }

    private Object slice(Slice s, Scope scope) {
        Object[] bounds = new Object[3];
        Expr[] parts = {s.start(), s.stop(), s.step()};
        for (int i = 0; i < 3; i++) {
            bounds[i] = parts[i] == null ? PyNone.NONE : eval(parts[i], scope);
        }
        for (Object b : bounds) {
            if (!(b instanceof PyNone) && !Py.isInt(b)) {
                return new Object(); // Python's TypeError, which the sandbox's getitem turns into undefined
            }
        }
        return new Methods.SliceValue(bound(bounds[0]), bound(bounds[1]), bound(bounds[2]));
    }

    private static Long bound(Object v) {
        if (v instanceof PyNone) {
            return null;
        }
        java.math.BigInteger b = Py.bigInt(v);
        return b.bitLength() < 63 ? b.longValue() : b.signum() < 0 ? Long.MIN_VALUE / 2 : Long.MAX_VALUE / 2;
    }

    private Object binary(String op, Object left, Object right) {
        return switch (op) {
            case "+" -> Py.add(left, right, budget);
            case "-" -> Py.sub(left, right);
            case "*" -> Py.mul(left, right, budget);
            case "/" -> Py.div(left, right);
            case "//" -> Py.floorDiv(left, right);
            case "%" -> Py.mod(left, right, budget);
            default -> Py.pow(left, right);
        };
    }

    private Object compare(Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int i = 0; i < c.ops().size(); i++) {
            Object right = eval(c.operands().get(i), scope);
            boolean holds = switch (c.ops().get(i)) {
                case "eq" -> Py.eq(left, right);
                case "ne" -> !Py.eq(left, right);
                case "in" -> Py.contains(right, left);
                case "notin" -> !Py.contains(right, left);
                default -> Py.compare(c.ops().get(i), left, right);
            };
            if (!holds) {
                return false;
            }
            left = right;
        }
        return true;
    }

    /** A filter; {@code blockValue} is what the innermost filter of a filter or set block receives. */
    private Object filter(Filter f, Scope scope, Object blockValue) {
        Object value;
        if (f.value() == null) {
            value = blockValue;
        } else if (blockValue != null && f.value() instanceof Filter inner) {
            value = filter(inner, scope, blockValue);
        } else {
            value = eval(f.value(), scope);
        }
        List<Object> args = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        evalArgs(f.args(), scope, args, kwargs);
        budget.step();
        try {
            return Filters.apply(this, f.name(), value, args, kwargs);
        } catch (JinjaException e) {
            throw e.at(f.line());
        }
    }

    private void evalArgs(Args args, Scope scope, List<Object> positional, Map<String, Object> keywords) {
        for (Expr e : args.positional()) {
            positional.add(eval(e, scope));
        }
        if (args.starArgs() != null) {
            positional.addAll(Py.toList(eval(args.starArgs(), scope)));
        }
        for (Keyword k : args.keywords()) {
            keywords.put(k.name(), eval(k.value(), scope));
        }
        if (args.starKwargs() != null) {
            Object more = eval(args.starKwargs(), scope);
            if (!(more instanceof Map<?, ?> map)) {
                throw JinjaException.typeError("argument after ** must be a mapping, not " + Py.typeName(more));
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw JinjaException.typeError("keywords must be strings");
                }
                if (keywords.containsKey(key)) {
                    throw JinjaException.typeError("got multiple values for keyword argument '" + key + "'");
                }
                keywords.put(key, e.getValue());
            }
        }
        budget.elements(positional.size() + (long) keywords.size());
    }

    Object call(Object callee, List<Object> args, Map<String, Object> kwargs) {
        budget.step();
        if (callee instanceof PyCallable function) {
            budget.enter();
            try {
                return function.call(this, args, kwargs);
            } finally {
                budget.leave();
            }
        }
        if (callee instanceof Undefined u) {
            throw u.error();
        }
        throw JinjaException.typeError("'" + Py.typeName(callee) + "' object is not callable");
    }

    private Object resolve(String name, Scope scope) {
        Object v = scope.lookup(name);
        if (v != null) {
            return v;
        }
        v = variables.get(name);
        if (v != null) {
            return v;
        }
        PyCallable global = Globals.get(name, clock);
        return global != null ? global : Undefined.variable(name);
    }
}
