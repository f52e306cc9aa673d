package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.io.Serial;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The global functions HF transformers gives chat templates and Jinjava lacks. Jinjava binds
 * template functions to static methods, which is why the clock travels in a hidden template
 * variable rather than a field.
 */
final class TemplateFunctions {
    /** Template variable holding the {@link Clock} that {@code strftime_now} reads. */
    static final String CLOCK_VARIABLE = "__batchllm_clock__";

    private TemplateFunctions() {
    }

    /**
     * {@code raise_exception(message)}: the template refuses the conversation. Jinjava turns any
     * exception from a function into a template error and keeps rendering, so the caller finds
     * this exception in the error list afterwards (see {@link #findRaised(Throwable)}).
     */
    public static Object raiseException(Object message) {
        throw new TemplateRaisedException(String.valueOf(message));
    }

    /** {@code strftime_now(format)}: the current time in Python strftime format (Llama 3.2 and later). */
    public static String strftimeNow(String format) {
        Clock clock = (Clock) JinjavaInterpreter.getCurrent().getContext().get(CLOCK_VARIABLE);
        return StrftimeFormatter.format(ZonedDateTime.now(clock), format, Locale.US);
    }

    /** @return the raise_exception call somewhere in this cause chain, or null */
    static TemplateRaisedException findRaised(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TemplateRaisedException raised) {
                return raised;
            }
        }
        return null;
    }

    /** Thrown by {@code raise_exception}; carries the template's own message. */
    static final class TemplateRaisedException extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        TemplateRaisedException(String message) {
            super(message, null, false, false);
        }
    }
}
