package io.batchllm.engine.chat.jinja;

import java.util.List;

/**
 * The syntax tree of a template, as jinja2's parser builds it ({@code jinja2.nodes}), reduced to
 * the statements and expressions this interpreter runs. Every node knows its template line, for
 * error messages.
 */
sealed interface Node {

    int line();

    // --- statements ---

    /** A statement: something that runs and may write output. */
    sealed interface Stmt extends Node {
    }

    /** Literal template text. */
    record Data(String text, int line) implements Stmt {
    }

    /** <code>&#123;&#123; expr &#125;&#125;</code>: the value printed as Python's {@code str()} does. */
    record Print(Expr expr, int line) implements Stmt {
    }

    /** {@code if}/{@code elif}/{@code else}: the first branch whose test is true runs. */
    record If(List<Branch> branches, List<Stmt> otherwise, int line) implements Stmt {
    }

    /** One {@code if} or {@code elif} test and its body. */
    record Branch(Expr test, List<Stmt> body) {
    }

    /** {@code for target in iterable [if filter]}, with an {@code else} body for no iterations. */
    record For(Expr target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise, int line)
            implements Stmt {
    }

    /** {@code set target = value}; the target is a name, a tuple of names or {@code namespace.attr}. */
    record Set(Expr target, Expr value, int line) implements Stmt {
    }

    /** <code>&#123;% set target [| filters] %&#125;body&#123;% endset %&#125;</code>: the body's output, filtered. */
    record SetBlock(Expr target, Expr filter, List<Stmt> body, int line) implements Stmt {
    }

    /** A macro definition; binds a {@link Macro} to {@code name} when it runs. */
    record MacroDef(MacroSpec spec, int line) implements Stmt {
    }

    /** <code>&#123;% call [(params)] macro(args) %&#125;body&#123;% endcall %&#125;</code>: calls with a {@code caller}. */
    record CallBlock(MacroSpec caller, Call call, int line) implements Stmt {
    }

    /** <code>&#123;% filter f %&#125;body&#123;% endfilter %&#125;</code>: the body's output through filters. */
    record FilterBlock(Expr filter, List<Stmt> body, int line) implements Stmt {
    }

    /** <code>&#123;% with a = x %&#125;body&#123;% endwith %&#125;</code>: the body in a scope of its own. */
    record With(List<Expr> targets, List<Expr> values, List<Stmt> body, int line) implements Stmt {
    }

    /** HF's <code>&#123;% generation %&#125;</code> tag (assistant-token masks): renders its body as is. */
    record Generation(List<Stmt> body, int line) implements Stmt {
    }

    /** {@code break} inside a loop. */
    record Break(int line) implements Stmt {
    }

    /** {@code continue} inside a loop. */
    record Continue(int line) implements Stmt {
    }

    /**
     * A macro's signature and body.
     *
     * @param defaults default values of the last {@code defaults.size()} parameters
     * @param usesCaller, usesVarargs, usesKwargs whether the body reads {@code caller},
     *     {@code varargs}, {@code kwargs} (jinja2 decides from that whether the macro accepts them)
     */
    record MacroSpec(String name, List<String> params, List<Expr> defaults, List<Stmt> body, boolean usesCaller,
                     boolean usesVarargs, boolean usesKwargs) {
    }

    // --- expressions ---

    /** An expression: something that evaluates to a value. */
    sealed interface Expr extends Node {
    }

    /** A literal (string, number, boolean, none). */
    record Const(Object value, int line) implements Expr {
    }

    /** A variable. */
    record Name(String name, int line) implements Expr {
    }

    /** {@code namespace.attr} as an assignment target. */
    record NsRef(String name, String attr, int line) implements Expr {
    }

    /** {@code obj.attr}. */
    record GetAttr(Expr object, String attr, int line) implements Expr {
    }

    /** {@code obj[key]}. */
    record GetItem(Expr object, Expr key, int line) implements Expr {
    }

    /** {@code start:stop:step} inside brackets; each part may be null. */
    record Slice(Expr start, Expr stop, Expr step, int line) implements Expr {
    }

    /** A call's arguments, as written ({@code *args}/{@code **kwargs} may be null). */
    record Args(List<Expr> positional, List<Keyword> keywords, Expr starArgs, Expr starKwargs) {
        static final Args NONE = new Args(List.of(), List.of(), null, null);
    }

    /** {@code name=value} in a call. */
    record Keyword(String name, Expr value) {
    }

    /** {@code callee(args)}. */
    record Call(Expr callee, Args args, int line) implements Expr {
    }

    /** {@code value | name(args)}; {@code value} is null for a filter block's or set block's filter. */
    record Filter(Expr value, String name, Args args, int line) implements Expr {
    }

    /** {@code value is name(args)}. */
    record Test(Expr value, String name, Args args, int line) implements Expr {
    }

    /** {@code not x}, {@code -x}, {@code +x}. */
    record Unary(String op, Expr operand, int line) implements Expr {
    }

    /** {@code + - * / // % **}. */
    record Binary(String op, Expr left, Expr right, int line) implements Expr {
    }

    /** {@code and}, {@code or}: Python's short-circuit, returning an operand. */
    record Logical(boolean isAnd, Expr left, Expr right, int line) implements Expr {
    }

    /** {@code a < b == c in d}: a chain of comparisons (ops {@code eq ne lt lteq gt gteq in notin}). */
    record Compare(Expr first, List<String> ops, List<Expr> operands, int line) implements Expr {
    }

    /** {@code a ~ b ~ c}: the operands' {@code str()} joined. */
    record Concat(List<Expr> parts, int line) implements Expr {
    }

    /** {@code a if test else b}; without {@code else}, an undefined value when the test fails. */
    record CondExpr(Expr test, Expr then, Expr otherwise, int line) implements Expr {
    }

    /** {@code [a, b]}. */
    record ListExpr(List<Expr> items, int line) implements Expr {
    }

    /** {@code (a, b)} or {@code a, b}. */
    record TupleExpr(List<Expr> items, int line) implements Expr {
    }

    /** {@code {k: v}}. */
    record DictExpr(List<Expr> keys, List<Expr> values, int line) implements Expr {
    }
}
