package io.batchllm.engine.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import java.io.Serial;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * Jinjava's expression syntax with Python/Jinja2's precedence for {@code not}.
 *
 * <p>Jinjava parses {@code not} as a tight unary operator (as Java EL does), so
 * {@code not x is defined} becomes {@code (not x) is defined}, which is always true. In Jinja2
 * {@code not} binds looser than comparisons, tests and filters: {@code not (x is defined)}. HF
 * templates use that idiom all the time ({@code if not add_generation_prompt is defined},
 * {@code if not date_string is defined}, {@code not tools is none}); with Jinjava's reading,
 * DeepSeek-R1 resets {@code add_generation_prompt} to false and Llama 3.1 overwrites a given
 * {@code date_string} with its default. Parsing {@code not} at the level just above {@code ==}
 * (where the EL grammar has its operands of {@code and}) gives Jinja2's grammar
 * ({@code or > and > not > comparisons > ...}).
 *
 * <p>The builder keeps Jinjava's features (method invocations and varargs, as {@code Jinjava}
 * configures its own builder).
 */
final class PythonPrecedenceSyntaxBuilder extends ExtendedSyntaxBuilder {
    @Serial
    private static final long serialVersionUID = 1L;

    PythonPrecedenceSyntaxBuilder() {
        super(Feature.METHOD_INVOCATIONS, Feature.VARARGS);
    }

    @Override
    protected Parser createParser(String expression) {
        return new PythonPrecedenceParser(this, expression);
    }

    private static final class PythonPrecedenceParser extends ExtendedParser {
        PythonPrecedenceParser(Builder builder, String input) {
            super(builder, input);
        }

        @Override
        protected AstNode eq(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Scanner.Symbol.NOT) {
                consumeToken();
                return createAstUnary(eq(true), AstUnary.NOT);
            }
            return super.eq(required);
        }
    }
}
