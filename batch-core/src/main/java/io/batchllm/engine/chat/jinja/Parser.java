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
import io.batchllm.engine.chat.jinja.Token.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * jinja2's parser ({@code jinja2/parser.py}), method for method, so that precedence, the places
 * where tuples and conditional expressions are allowed, and the syntax error messages are the same.
 *
 * <p>Also refuses {@code break}/{@code continue} outside a loop, as jinja2's compiler does; unknown
 * filters and tests are checked after parsing ({@link Nodes#checkFiltersAndTests}). Nesting is
 * bounded ({@link #MAX_NESTING}) so that no template can exhaust the parser's stack.
 */
final class Parser {
    /** Deepest nesting of expressions or blocks; jinja2 itself fails near 150 nested parentheses. */
    static final int MAX_NESTING = 100;

    private static final java.util.Set<String> COMPARE_OPS = java.util.Set.of("==", "!=", "<", "<=", ">", ">=");
    private static final Map<String, String> COMPARE_NAMES =
            Map.of("==", "eq", "!=", "ne", "<", "lt", "<=", "lteq", ">", "gt", ">=", "gteq");
    /** Tags that would read other templates or change escaping: refused, as this engine has no loader. */
    private static final java.util.Set<String> REFUSED_TAGS =
            java.util.Set.of("include", "import", "from", "extends", "block", "autoescape");

    private final List<Token> tokens;
    private int index;
    private final Deque<String> tagStack = new ArrayDeque<>();
    private final Deque<List<String>> endTokenStack = new ArrayDeque<>();
    private int nesting;
    private int loopDepth;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Stmt> parse(String source) {
        Parser parser = new Parser(Lexer.tokenize(source));
        List<Stmt> body = parser.subparse(null);
        Nodes.checkFiltersAndTests(body);
        return body;
    }

    // --- token stream ---

    private Token current() {
        return tokens.get(index);
    }

    private Token look() {
        return tokens.get(Math.min(index + 1, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(index);
        if (index < tokens.size() - 1) {
            index++;
        }
        return t;
    }

    private boolean skipOperator(String op) {
        if (current().isOperator(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (current().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    private Token expect(Kind kind, String what) {
        if (current().kind() != kind) {
            throw unexpected(what);
        }
        return next();
    }

    private Token expectOperator(String op) {
        if (!current().isOperator(op)) {
            throw unexpected(op);
        }
        return next();
    }

    private Token expectName(String name) {
        if (!current().isName(name)) {
            throw unexpected(name);
        }
        return next();
    }

    private JinjaException unexpected(String expected) {
        Token t = current();
        if (t.kind() == Kind.EOF) {
            return fail("unexpected end of template, expected '" + expected + "'.", t.line());
        }
        return fail("expected token '" + expected + "', got '" + t.describe() + "'", t.line());
    }

    private static JinjaException fail(String message, int line) {
        return JinjaException.syntax(message, line);
    }

    private void enter(int line) {
        if (++nesting > MAX_NESTING) {
            throw fail("the template nests expressions or blocks deeper than " + MAX_NESTING + " levels", line);
        }
    }

    private void leave() {
        nesting--;
    }

    // --- statements ---

    private List<Stmt> subparse(List<String> endTokens) {
        List<Stmt> body = new ArrayList<>();
        if (endTokens != null) {
            endTokenStack.push(endTokens);
        }
        try {
            while (current().kind() != Kind.EOF) {
                Token token = current();
                switch (token.kind()) {
                    case DATA -> {
                        body.add(new Data(token.text(), token.line()));
                        next();
                    }
                    case VARIABLE_BEGIN -> {
                        next();
                        body.add(new Print(parseTuple(false, true, null, false), token.line()));
                        expect(Kind.VARIABLE_END, "end of print statement");
                    }
                    case BLOCK_BEGIN -> {
                        next();
                        if (endTokens != null && current().kind() == Kind.NAME && endTokens.contains(current().text())) {
                            return body;
                        }
                        body.addAll(parseStatement());
                        expect(Kind.BLOCK_END, "end of statement block");
                    }
                    default -> throw fail("unexpected '" + token.describe() + "'", token.line());
                }
            }
            return body;
        } finally {
            if (endTokens != null) {
                endTokenStack.pop();
            }
        }
    }

    private List<Stmt> parseStatements(List<String> endTokens, boolean dropNeedle) {
        skipOperator(":");
        expect(Kind.BLOCK_END, "end of statement block");
        List<Stmt> result = subparse(endTokens);
        if (current().kind() == Kind.EOF) {
            throw failEof(endTokens);
        }
        if (dropNeedle) {
            next();
        }
        return result;
    }

    private List<Stmt> parseStatement() {
        Token token = current();
        if (token.kind() != Kind.NAME) {
            throw fail("tag name expected", token.line());
        }
        String tag = token.text();
        if (REFUSED_TAGS.contains(tag)) {
            throw fail("'" + tag + "' is not supported: a chat template cannot use other templates or files,"
                    + " and renders without autoescaping", token.line());
        }
        tagStack.push(tag);
        enter(token.line());
        try {
            return switch (tag) {
                case "for" -> List.of(parseFor());
                case "if" -> List.of(parseIf());
                case "set" -> List.of(parseSet());
                case "macro" -> List.of(parseMacro());
                case "call" -> List.of(parseCallBlock());
                case "filter" -> List.of(parseFilterBlock());
                case "with" -> List.of(parseWith());
                case "print" -> parsePrint();
                case "generation" -> {
                    next();
                    yield List.of(new Generation(parseStatements(List.of("endgeneration"), true), token.line()));
                }
                case "break", "continue" -> {
                    next();
                    if (loopDepth == 0) {
                        throw fail("'" + tag + "' outside loop", token.line());
                    }
                    yield List.of(tag.equals("break") ? new Break(token.line()) : new Continue(token.line()));
                }
                default -> {
                    tagStack.pop();
                    tagStack.push(""); // so that the finally block pops a placeholder
                    throw failUnknownTag(tag, token.line());
                }
            };
        } finally {
            tagStack.pop();
            leave();
        }
    }

    private JinjaException failUnknownTag(String name, int line) {
        return failUnknown(name, new ArrayList<>(endTokenStack), line);
    }

    private JinjaException failEof(List<String> endTokens) {
        List<List<String>> stack = new ArrayList<>(endTokenStack);
        stack.addFirst(endTokens);
        return failUnknown(null, stack, current().line());
    }

    /** jinja2's {@code _fail_ut_eof}; {@code stack} is innermost first. */
    private JinjaException failUnknown(String name, List<List<String>> stack, int line) {
        java.util.Set<String> expected = new LinkedHashSet<>();
        stack.forEach(expected::addAll);
        String looking = stack.isEmpty() ? null
                : String.join(" or ", stack.getFirst().stream().map(t -> "'" + t + "'").toList());
        StringBuilder message = new StringBuilder(name == null ? "Unexpected end of template."
                : "Encountered unknown tag '" + name + "'.");
        if (looking != null) {
            if (name != null && expected.contains(name)) {
                message.append(" You probably made a nesting mistake. Jinja is expecting this tag, but currently"
                        + " looking for ").append(looking).append('.');
            } else {
                message.append(" Jinja was looking for the following tags: ").append(looking).append('.');
            }
        }
        String innermost = tagStack.stream().filter(t -> !t.isEmpty()).findFirst().orElse(null);
        if (innermost != null) {
            message.append(" The innermost block that needs to be closed is '").append(innermost).append("'.");
        }
        return fail(message.toString(), line);
    }

    private For parseFor() {
        int line = expectName("for").line();
        Expr target = parseAssignTarget(true, false, List.of("in"), false);
        expectName("in");
        Expr iterable = parseTuple(false, false, List.of("recursive"), false);
        Expr filter = null;
        if (skipName("if")) {
            filter = parseExpression(true);
        }
        if (current().isName("recursive")) {
            throw fail("recursive for loops are not supported by this engine", current().line());
        }
        loopDepth++;
        List<Stmt> body;
        try {
            body = parseStatements(List.of("endfor", "else"), false);
        } finally {
            loopDepth--;
        }
        List<Stmt> otherwise = next().text().equals("endfor") ? List.of()
                : parseStatements(List.of("endfor"), true);
        return new For(target, iterable, filter, body, otherwise, line);
    }

    private If parseIf() {
        int line = expectName("if").line();
        List<Branch> branches = new ArrayList<>();
        List<Stmt> otherwise = List.of();
        while (true) {
            Expr test = parseTuple(false, false, null, false);
            List<Stmt> body = parseStatements(List.of("elif", "else", "endif"), false);
            branches.add(new Branch(test, body));
            Token token = next();
            if (token.isName("elif")) {
                continue;
            }
            if (token.isName("else")) {
                otherwise = parseStatements(List.of("endif"), true);
            }
            break;
        }
        return new If(branches, otherwise, line);
    }

    private Stmt parseSet() {
        int line = next().line();
        Expr target = parseAssignTarget(true, false, null, true);
        if (skipOperator("=")) {
            return new Set(target, parseTuple(false, true, null, false), line);
        }
        Expr filter = parseFilter(null, false);
        return new SetBlock(target, filter, parseStatements(List.of("endset"), true), line);
    }

    private MacroDef parseMacro() {
        int line = next().line();
        String name = expect(Kind.NAME, "name").text();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        parseSignature(params, defaults);
        return new MacroDef(macroBody(name, params, defaults, "endmacro"), line);
    }

    private CallBlock parseCallBlock() {
        int line = next().line();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (current().isOperator("(")) {
            parseSignature(params, defaults);
        }
        Expr call = parseExpression(true);
        if (!(call instanceof Call c)) {
            throw fail("expected call", line);
        }
        return new CallBlock(macroBody("caller", params, defaults, "endcall"), c, line);
    }

    private void parseSignature(List<String> params, List<Expr> defaults) {
        expectOperator("(");
        while (!current().isOperator(")")) {
            if (!params.isEmpty()) {
                expectOperator(",");
            }
            String param = expect(Kind.NAME, "name").text();
            if (skipOperator("=")) {
                defaults.add(parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw fail("non-default argument follows default argument", current().line());
            }
            params.add(param);
        }
        expectOperator(")");
    }

    /** The body of a macro or caller, parsed outside any loop (a macro is a function of its own). */
    private MacroSpec macroBody(String name, List<String> params, List<Expr> defaults, String endTag) {
        int outerLoops = loopDepth;
        loopDepth = 0;
        List<Stmt> body;
        try {
            body = parseStatements(List.of(endTag), true);
        } finally {
            loopDepth = outerLoops;
        }
        java.util.Set<String> read = Nodes.namesRead(body, java.util.Set.of("caller", "varargs", "kwargs"));
        return new MacroSpec(name, List.copyOf(params), List.copyOf(defaults), body, read.contains("caller"),
                read.contains("varargs"), read.contains("kwargs"));
    }

    private FilterBlock parseFilterBlock() {
        int line = next().line();
        Expr filter = parseFilter(null, true);
        return new FilterBlock(filter, parseStatements(List.of("endfilter"), true), line);
    }

    private With parseWith() {
        int line = next().line();
        List<Expr> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (current().kind() != Kind.BLOCK_END) {
            if (!targets.isEmpty()) {
                expectOperator(",");
            }
            targets.add(parseAssignTarget(true, false, null, false));
            expectOperator("=");
            values.add(parseExpression(true));
        }
        return new With(targets, values, parseStatements(List.of("endwith"), true), line);
    }

    private List<Stmt> parsePrint() {
        int line = next().line();
        List<Stmt> prints = new ArrayList<>();
        while (current().kind() != Kind.BLOCK_END) {
            if (!prints.isEmpty()) {
                expectOperator(",");
            }
            prints.add(new Print(parseExpression(true), line));
        }
        return prints;
    }

    private Expr parseAssignTarget(boolean withTuple, boolean nameOnly, List<String> extraEndRules,
            boolean withNamespace) {
        Expr target;
        if (nameOnly) {
            Token token = expect(Kind.NAME, "name");
            target = new Name(token.text(), token.line());
        } else if (withTuple) {
            target = parseTuple(true, true, extraEndRules, false, withNamespace);
        } else {
            target = parsePrimary(withNamespace);
        }
        if (!canAssign(target)) {
            throw fail("can't assign to '" + nodeName(target) + "'", target.line());
        }
        return target;
    }

    private static boolean canAssign(Expr target) {
        return switch (target) {
            case Name n -> !List.of("true", "false", "none", "True", "False", "None").contains(n.name());
            case NsRef n -> true;
            case TupleExpr t -> t.items().stream().allMatch(Parser::canAssign);
            default -> false;
        };
    }

    private static String nodeName(Expr e) {
        return switch (e) {
            case Const c -> "const";
            case TupleExpr t -> "tuple";
            case ListExpr l -> "list";
            case DictExpr d -> "dict";
            default -> e.getClass().getSimpleName().toLowerCase();
        };
    }

    // --- expressions ---

    private Expr parseExpression(boolean withCondExpr) {
        return withCondExpr ? parseCondExpr() : parseOr();
    }

    private Expr parseCondExpr() {
        int line = current().line();
        Expr expr1 = parseOr();
        while (skipName("if")) {
            Expr expr2 = parseOr();
            Expr expr3 = skipName("else") ? parseCondExpr() : null;
            expr1 = new CondExpr(expr2, expr1, expr3, line);
            line = current().line();
        }
        return expr1;
    }

    private Expr parseOr() {
        int line = current().line();
        Expr left = parseAnd();
        while (skipName("or")) {
            left = new Logical(false, left, parseAnd(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseAnd() {
        int line = current().line();
        Expr left = parseNot();
        while (skipName("and")) {
            left = new Logical(true, left, parseNot(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            int line = next().line();
            enter(line);
            try {
                return new Unary("not", parseNot(), line);
            } finally {
                leave();
            }
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr expr = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.kind() == Kind.OPERATOR && COMPARE_OPS.contains(t.text())) {
                next();
                ops.add(COMPARE_NAMES.get(t.text()));
            } else if (skipName("in")) {
                ops.add("in");
            } else if (t.isName("not") && look().isName("in")) {
                next();
                next();
                ops.add("notin");
            } else {
                break;
            }
            operands.add(parseMath1());
            line = current().line();
        }
        return ops.isEmpty() ? expr : new Compare(expr, ops, operands, line);
    }

    private Expr parseMath1() {
        int line = current().line();
        Expr left = parseConcat();
        while (current().isOperator("+") || current().isOperator("-")) {
            String op = next().text();
            left = new Binary(op, left, parseConcat(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseConcat() {
        int line = current().line();
        List<Expr> args = new ArrayList<>();
        args.add(parseMath2());
        while (skipOperator("~")) {
            args.add(parseMath2());
        }
        return args.size() == 1 ? args.getFirst() : new Concat(args, line);
    }

    private Expr parseMath2() {
        int line = current().line();
        Expr left = parsePow();
        while (current().kind() == Kind.OPERATOR && List.of("*", "/", "//", "%").contains(current().text())) {
            String op = next().text();
            left = new Binary(op, left, parsePow(), line);
            line = current().line();
        }
        return left;
    }

    private Expr parsePow() {
        int line = current().line();
        Expr left = parseUnary(true);
        while (skipOperator("**")) {
            left = new Binary("**", left, parseUnary(true), line);
            line = current().line();
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Token token = current();
        enter(token.line());
        try {
            Expr node;
            if (token.isOperator("-") || token.isOperator("+")) {
                next();
                node = new Unary(token.text(), parseUnary(false), token.line());
            } else {
                node = parsePrimary(false);
            }
            node = parsePostfix(node);
            return withFilter ? parseFilterExpr(node) : node;
        } finally {
            leave();
        }
    }

    private Expr parsePrimary(boolean withNamespace) {
        Token token = current();
        switch (token.kind()) {
            case NAME -> {
                next();
                String v = token.text();
                if (v.equals("true") || v.equals("false") || v.equals("True") || v.equals("False")) {
                    return new Const(v.equals("true") || v.equals("True"), token.line());
                }
                if (v.equals("none") || v.equals("None")) {
                    return new Const(PyNone.NONE, token.line());
                }
                if (withNamespace && current().isOperator(".")) {
                    next();
                    return new NsRef(v, expect(Kind.NAME, "name").text(), token.line());
                }
                return new Name(v, token.line());
            }
            case STRING -> {
                next();
                StringBuilder buf = new StringBuilder(token.text());
                while (current().kind() == Kind.STRING) {
                    buf.append(next().text());
                }
                return new Const(buf.toString(), token.line());
            }
            case INTEGER, FLOAT -> {
                next();
                return new Const(token.value(), token.line());
            }
            case OPERATOR -> {
                switch (token.text()) {
                    case "(" -> {
                        next();
                        Expr node = parseTuple(false, true, null, true);
                        expectOperator(")");
                        return node;
                    }
                    case "[" -> {
                        return parseList();
                    }
                    case "{" -> {
                        return parseDict();
                    }
                    default -> {
                        // fall through to the error below
                    }
                }
            }
            default -> {
                // fall through to the error below
            }
        }
        throw fail("unexpected '" + token.describe() + "'", token.line());
    }

    /**
     * jinja2's {@code parse_tuple}: one expression, or several separated by commas as a tuple.
     *
     * @param simplified only names and literals (assignment targets)
     */
    private Expr parseTuple(boolean simplified, boolean withCondExpr, List<String> extraEndRules,
            boolean explicitParentheses) {
        return parseTuple(simplified, withCondExpr, extraEndRules, explicitParentheses, false);
    }

    private Expr parseTuple(boolean simplified, boolean withCondExpr, List<String> extraEndRules,
            boolean explicitParentheses, boolean withNamespace) {
        int line = current().line();
        List<Expr> args = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!args.isEmpty()) {
                expectOperator(",");
            }
            if (isTupleEnd(extraEndRules)) {
                break;
            }
            args.add(simplified ? parsePrimary(withNamespace) : parseExpression(withCondExpr));
            if (current().isOperator(",")) {
                isTuple = true;
            } else {
                break;
            }
            line = current().line();
        }
        if (!isTuple) {
            if (!args.isEmpty()) {
                return args.getFirst();
            }
            if (!explicitParentheses) {
                throw fail("Expected an expression, got '" + current().describe() + "'", current().line());
            }
        }
        return new TupleExpr(args, line);
    }

    private boolean isTupleEnd(List<String> extraEndRules) {
        Token t = current();
        if (t.kind() == Kind.VARIABLE_END || t.kind() == Kind.BLOCK_END || t.isOperator(")")) {
            return true;
        }
        return extraEndRules != null && t.kind() == Kind.NAME && extraEndRules.contains(t.text());
    }

    private Expr parseList() {
        Token token = expectOperator("[");
        enter(token.line());
        try {
            List<Expr> items = new ArrayList<>();
            while (!current().isOperator("]")) {
                if (!items.isEmpty()) {
                    expectOperator(",");
                }
                if (current().isOperator("]")) {
                    break;
                }
                items.add(parseExpression(true));
            }
            expectOperator("]");
            return new ListExpr(items, token.line());
        } finally {
            leave();
        }
    }

    private Expr parseDict() {
        Token token = expectOperator("{");
        enter(token.line());
        try {
            List<Expr> keys = new ArrayList<>();
            List<Expr> values = new ArrayList<>();
            while (!current().isOperator("}")) {
                if (!keys.isEmpty()) {
                    expectOperator(",");
                }
                if (current().isOperator("}")) {
                    break;
                }
                keys.add(parseExpression(true));
                expectOperator(":");
                values.add(parseExpression(true));
            }
            expectOperator("}");
            return new DictExpr(keys, values, token.line());
        } finally {
            leave();
        }
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator(".") || t.isOperator("[")) {
                node = parseSubscript(node);
            } else if (t.isOperator("(")) {
                node = new Call(node, parseCallArgs(), t.line());
            } else {
                return node;
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator("|")) {
                node = parseFilter(node, false);
            } else if (t.isName("is")) {
                node = parseTest(node);
            } else if (t.isOperator("(")) {
                node = new Call(node, parseCallArgs(), t.line());
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token token = next();
        if (token.isOperator(".")) {
            Token attr = next();
            if (attr.kind() == Kind.NAME) {
                return new GetAttr(node, attr.text(), token.line());
            }
            if (attr.kind() != Kind.INTEGER) {
                throw fail("expected name or number", attr.line());
            }
            return new GetItem(node, new Const(attr.value(), attr.line()), token.line());
        }
        enter(token.line());
        try {
            List<Expr> args = new ArrayList<>();
            while (!current().isOperator("]")) {
                if (!args.isEmpty()) {
                    expectOperator(",");
                }
                args.add(parseSubscribed());
            }
            expectOperator("]");
            Expr key = args.size() == 1 ? args.getFirst() : new TupleExpr(args, token.line());
            return new GetItem(node, key, token.line());
        } finally {
            leave();
        }
    }

    private Expr parseSubscribed() {
        int line = current().line();
        Expr start = null;
        if (current().isOperator(":")) {
            next();
        } else {
            Expr node = parseExpression(true);
            if (!current().isOperator(":")) {
                return node;
            }
            next();
            start = node;
        }
        Expr stop = null;
        if (!current().isOperator(":") && !current().isOperator("]") && !current().isOperator(",")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (current().isOperator(":")) {
            next();
            if (!current().isOperator("]") && !current().isOperator(",")) {
                step = parseExpression(true);
            }
        }
        return new Slice(start, stop, step, line);
    }

    private Args parseCallArgs() {
        Token token = expectOperator("(");
        enter(token.line());
        try {
            List<Expr> args = new ArrayList<>();
            List<Keyword> kwargs = new ArrayList<>();
            Expr dynArgs = null;
            Expr dynKwargs = null;
            boolean requireComma = false;
            while (!current().isOperator(")")) {
                if (requireComma) {
                    expectOperator(",");
                    if (current().isOperator(")")) {
                        break;
                    }
                }
                if (current().isOperator("*")) {
                    ensure(dynArgs == null && dynKwargs == null, token);
                    next();
                    dynArgs = parseExpression(true);
                } else if (current().isOperator("**")) {
                    ensure(dynKwargs == null, token);
                    next();
                    dynKwargs = parseExpression(true);
                } else if (current().kind() == Kind.NAME && look().isOperator("=")) {
                    ensure(dynKwargs == null, token);
                    String key = next().text();
                    next();
                    kwargs.add(new Keyword(key, parseExpression(true)));
                } else {
                    ensure(dynArgs == null && dynKwargs == null && kwargs.isEmpty(), token);
                    args.add(parseExpression(true));
                }
                requireComma = true;
            }
            expectOperator(")");
            return new Args(args, kwargs, dynArgs, dynKwargs);
        } finally {
            leave();
        }
    }

    private static void ensure(boolean ok, Token token) {
        if (!ok) {
            throw fail("invalid syntax for function call expression", token.line());
        }
    }

    private Expr parseFilter(Expr node, boolean startInline) {
        while (current().isOperator("|") || startInline) {
            if (!startInline) {
                next();
            }
            Token token = expect(Kind.NAME, "name");
            StringBuilder name = new StringBuilder(token.text());
            while (current().isOperator(".")) {
                next();
                name.append('.').append(expect(Kind.NAME, "name").text());
            }
            Args args = current().isOperator("(") ? parseCallArgs() : Args.NONE;
            node = new Filter(node, name.toString(), args, token.line());
            startInline = false;
        }
        return node;
    }

    private Expr parseTest(Expr node) {
        Token token = next();
        boolean negated = skipName("not");
        StringBuilder name = new StringBuilder(expect(Kind.NAME, "name").text());
        while (current().isOperator(".")) {
            next();
            name.append('.').append(expect(Kind.NAME, "name").text());
        }
        Token t = current();
        Args args;
        if (t.isOperator("(")) {
            args = parseCallArgs();
        } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.INTEGER
                || t.kind() == Kind.FLOAT || t.isOperator("(") || t.isOperator("[") || t.isOperator("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) {
                throw fail("You cannot chain multiple tests with is", t.line());
            }
            args = new Args(List.of(parsePostfix(parsePrimary(false))), List.of(), null, null);
        } else {
            args = Args.NONE;
        }
        Expr test = new Test(node, name.toString(), args, token.line());
        return negated ? new Unary("not", test, token.line()) : test;
    }
}
