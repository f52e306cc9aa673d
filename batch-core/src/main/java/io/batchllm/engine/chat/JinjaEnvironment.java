package io.batchllm.engine.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateError.ErrorType;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilderException;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * One Jinjava engine set up to render chat templates the way HF transformers does (Jinja2 with
 * {@code trim_blocks=True, lstrip_blocks=True} plus a few globals). Every deviation from stock
 * Jinjava is listed here and explained where it lives:
 *
 * <ul>
 *   <li>{@code trim_blocks}: Jinjava's option of the same meaning. {@code lstrip_blocks} and
 *       Jinja2's dropping of the template's final newline: {@link Jinja2Whitespace}, applied to
 *       the source before Jinjava sees it.</li>
 *   <li>Whitespace control on expressions and comments (a {@code -} just inside their
 *       delimiters): Jinjava honours it only on statement tags unless
 *       {@code useTrimmingForNotesAndExpressions} is on, and HF templates use it everywhere (Llama
 *       3.1 opens with a trimming {@code bos_token} expression).</li>
 *   <li>Operator precedence: {@code useNaturalOperatorPrecedence} makes filters bind tighter than
 *       {@code +} ({@code 'a' + x | trim} trims only {@code x}, as in Jinja2), and
 *       {@link PythonPrecedenceSyntaxBuilder} makes {@code not} bind looser than tests.</li>
 *   <li>Python {@code str} methods: {@link PythonStringMethods}.</li>
 *   <li>{@code tojson}: {@link PythonJsonFilter}.</li>
 *   <li>{@code raise_exception}, {@code strftime_now}: {@link TemplateFunctions}.</li>
 *   <li>Loop filters ({@code for x in xs if cond}): {@link LoopFilterForTag}.</li>
 *   <li>{@code items} filter and {@code generation} tag: {@link ItemsFilter}, {@link GenerationTag}.</li>
 *   <li>Unknown filters fail at compile time: {@link UnknownFilterCheck}.</li>
 * </ul>
 *
 * <p>Already Jinja2-compatible in Jinjava and relied on as is: {@code namespace()}, {@code loop.*},
 * {@code is defined}/{@code is none}/{@code is string}, slicing {@code messages[1:]} and
 * {@code s[:-1]}, negative indices, {@code in}, {@code d.items()}, {@code selectattr}/{@code reject},
 * {@code break}/{@code continue}.
 *
 * <p>Known remaining differences: Jinjava prints booleans as {@code true} and none as an empty
 * string (Python: {@code True}, {@code None}); an undefined value {@code is none} (Jinja2: not);
 * a <code>&#125;&#125;</code> inside an expression ends it even within a dict literal.
 *
 * <p>Thread-safe: the engine is configured once; each render gets its own interpreter.
 */
final class JinjaEnvironment {
    private static final JinjaEnvironment INSTANCE = new JinjaEnvironment();

    private final Jinjava jinjava;
    private final JinjavaConfig validationConfig;

    private JinjaEnvironment() {
        jinjava = new PythonSyntaxJinjava(config(false));
        validationConfig = config(true);
        jinjava.registerFilter(new PythonJsonFilter());
        jinjava.registerFilter(new ItemsFilter());
        jinjava.registerTag(new GenerationTag());
        jinjava.registerTag(new LoopFilterForTag());
        jinjava.registerFunction(function("raise_exception", "raiseException", Object.class));
        jinjava.registerFunction(function("strftime_now", "strftimeNow", String.class));
    }

    private static JinjavaConfig config(boolean validationMode) {
        return JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                // Off: Jinjava strips before mid-line tags too; Jinja2Whitespace does it right.
                .withLstripBlocks(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        // Prints lists and dicts as Python does (['a', 'b'], {'k': 1}), not as Java.
                        .withUsePyishObjectMapper(true)
                        .build())
                .withElResolver(new CompositeELResolver() {
                    {
                        add(new PythonStringMethods());
                        add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
                    }
                })
                .withValidationMode(validationMode)
                .build();
    }

    static JinjaEnvironment get() {
        return INSTANCE;
    }

    /**
     * Everything wrong with a template that can be found without a conversation: tags that do not
     * parse or are never closed, unknown filters, and expressions that do not parse.
     *
     * <p>Jinjava parses expressions only when it evaluates them, so a broken expression in a branch
     * a conversation never takes would surface only with that conversation. Jinjava's validation
     * mode evaluates every branch and loop body once; the expressions its parser rejects are
     * reported here. Its other errors (including {@code raise_exception} calls in branches the
     * sample conversation takes) depend on the conversation and are left to real renders.
     *
     * @param sample bindings for the validation render
     * @return one line per problem, empty when the template is usable
     */
    List<String> compileProblems(String source, Map<String, Object> sample) {
        List<String> problems = new ArrayList<>();
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        try (var current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
            Node root = current.value().parse(source);
            interpreter.getErrorsCopy().stream()
                    .filter(e -> e.getSeverity() == ErrorType.FATAL)
                    .forEach(e -> problems.add(describe(e)));
            problems.addAll(UnknownFilterCheck.unknownFilters(root, interpreter.getContext()));
        }
        if (problems.isEmpty()) {
            jinjava.renderForResult(source, sample, validationConfig).getErrors().stream()
                    .filter(JinjaEnvironment::isExpressionSyntaxError)
                    .forEach(e -> problems.add(describe(e)));
        }
        return problems;
    }

    /** An expression the EL parser rejected (as opposed to an error of evaluating it). */
    private static boolean isExpressionSyntaxError(TemplateError error) {
        for (Throwable t = error.getException(); t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TreeBuilderException) {
                return true;
            }
        }
        return false;
    }

    RenderResult render(String source, Map<String, Object> bindings) {
        return jinjava.renderForResult(source, bindings);
    }

    /** @return the error's message with its template line, e.g. {@code Unknown tag: foo (line 3)} */
    static String describe(TemplateError error) {
        return error.getMessage() + (error.getLineno() > 0 ? " (line " + error.getLineno() + ")" : "");
    }

    private static ELFunctionDefinition function(String name, String method, Class<?> parameter) {
        // Empty namespace: templates call raise_exception(...), not fn:raise_exception(...).
        return new ELFunctionDefinition("", name, TemplateFunctions.class, method, parameter);
    }

    /**
     * Jinjava with {@link PythonPrecedenceSyntaxBuilder} as its expression parser. Jinjava builds
     * its expression factory privately; overriding the getter is the one hook its interpreters use
     * to reach it. Mirrors Jinjava's own factory otherwise (truthy type conversion, no tree cache,
     * since Jinjava's parser reads per-render settings).
     */
    private static final class PythonSyntaxJinjava extends Jinjava {
        private static final ExpressionFactory EXPRESSION_FACTORY = new ExpressionFactoryImpl(
                new TreeStore(new PythonPrecedenceSyntaxBuilder(), new Cache(0)), new TruthyTypeConverter());

        PythonSyntaxJinjava(JinjavaConfig config) {
            super(config);
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return EXPRESSION_FACTORY;
        }
    }
}
