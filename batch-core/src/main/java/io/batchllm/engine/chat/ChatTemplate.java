package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateError.ErrorType;
import io.batchllm.engine.chat.ChatTemplateException.Reason;
import io.batchllm.engine.chat.TemplateFunctions.TemplateRaisedException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A model's chat template (the Jinja source in its GGUF {@code tokenizer.chat_template}), compiled
 * once and rendered for each chat request into the prompt text.
 *
 * <p>Renders as HF transformers does (Jinja2 with {@code trim_blocks} and {@code lstrip_blocks},
 * Python string methods, {@code raise_exception}, {@code strftime_now}, Python-style
 * {@code tojson}) and matches the reference engine (llama.cpp) in two more ways:
 * <ol>
 *   <li>a BOS token the template prints at the very start is removed, because tokenization adds
 *       BOS itself;</li>
 *   <li>when a template refuses system messages ({@code raise_exception} with a message that
 *       mentions "system", as Gemma 2's "System role not supported"), the system text is put in
 *       front of the next user message, separated by a newline, and the conversation is rendered
 *       again without system messages.</li>
 * </ol>
 *
 * <p>{@code strftime_now} reads the clock given to {@link #compile(String, Clock)}; by default the
 * system clock in the system time zone, as Python's {@code datetime.now()}.
 *
 * <p>Immutable and thread-safe: each render works on its own copy of the conversation and its own
 * Jinjava interpreter.
 */
public final class ChatTemplate {
    private static final String MESSAGES = "messages";
    private static final String ADD_GENERATION_PROMPT = "add_generation_prompt";
    private static final String BOS_TOKEN = "bos_token";
    private static final String EOS_TOKEN = "eos_token";
    private static final Set<String> RESERVED_VARIABLES =
            Set.of(MESSAGES, ADD_GENERATION_PROMPT, BOS_TOKEN, EOS_TOKEN, TemplateFunctions.CLOCK_VARIABLE);

    /** The conversation {@link #compile} renders in validation mode to find broken expressions. */
    private static final List<ChatMessage> SAMPLE_CONVERSATION = List.of(
            new ChatMessage("system", "s"), new ChatMessage("user", "u"),
            new ChatMessage("assistant", "a"), new ChatMessage("user", "u"));

    private final String source;
    private final String jinjaSource;
    private final Clock clock;

    private ChatTemplate(String source, String jinjaSource, Clock clock) {
        this.source = source;
        this.jinjaSource = jinjaSource;
        this.clock = clock;
    }

    /**
     * Compiles a template whose {@code strftime_now} reads the system clock.
     *
     * @param jinjaSource the Jinja source, as stored in {@code tokenizer.chat_template}
     * @return the compiled template
     * @throws ChatTemplateException ({@link Reason#SYNTAX}) naming each problem and its line when
     *     the template does not parse or uses a filter this engine lacks
     */
    public static ChatTemplate compile(String jinjaSource) {
        return compile(jinjaSource, Clock.systemDefaultZone());
    }

    /**
     * Compiles a template.
     *
     * @param jinjaSource the Jinja source, as stored in {@code tokenizer.chat_template}
     * @param clock the clock {@code strftime_now} reads
     * @return the compiled template
     * @throws ChatTemplateException ({@link Reason#SYNTAX}) naming each problem and its line when
     *     the template does not parse or uses a filter this engine lacks
     */
    public static ChatTemplate compile(String jinjaSource, Clock clock) {
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        Objects.requireNonNull(clock, "clock");
        String jinja = Jinja2Whitespace.apply(jinjaSource);
        Map<String, Object> sample = bindings(SAMPLE_CONVERSATION, true, "", "", Map.of(), clock);
        List<String> problems = JinjaEnvironment.get().compileProblems(jinja, sample);
        if (!problems.isEmpty()) {
            throw new ChatTemplateException(Reason.SYNTAX, "chat template does not compile: "
                    + String.join("; ", problems) + ". Fix the template (or pass a corrected one) before using it.");
        }
        return new ChatTemplate(jinjaSource, jinja, clock);
    }

    /** @return the Jinja source this template was compiled from */
    public String source() {
        return source;
    }

    /**
     * Renders a conversation into prompt text, with no extra template variables.
     *
     * @see #render(List, boolean, String, String, Map)
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken) {
        return render(messages, addGenerationPrompt, bosToken, eosToken, Map.of());
    }

    /**
     * Renders a conversation into prompt text.
     *
     * @param messages the conversation, oldest first
     * @param addGenerationPrompt whether to end with the opening of an assistant turn
     * @param bosToken the model's BOS token text; {@code ""} when it has none
     * @param eosToken the model's EOS token text; {@code ""} when it has none
     * @param extraVariables further template variables, such as {@code date_string} or
     *     {@code tools}; must not redefine {@code messages}, {@code add_generation_prompt},
     *     {@code bos_token} or {@code eos_token}
     * @return the prompt text, without a leading BOS
     * @throws ChatTemplateException {@link Reason#REJECTED_BY_TEMPLATE} with the template's own
     *     message when the template refuses the conversation, {@link Reason#RENDER_FAILED} when
     *     rendering fails otherwise
     * @throws IllegalArgumentException when {@code extraVariables} redefines a reserved variable
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken,
            Map<String, Object> extraVariables) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(bosToken, "bosToken (pass \"\" when the model has no BOS token)");
        Objects.requireNonNull(eosToken, "eosToken (pass \"\" when the model has no EOS token)");
        Objects.requireNonNull(extraVariables, "extraVariables");
        for (String name : extraVariables.keySet()) {
            if (RESERVED_VARIABLES.contains(name)) {
                throw new IllegalArgumentException("extraVariables must not set '" + name
                        + "': it is set from the render arguments; reserved names are " + RESERVED_VARIABLES);
            }
        }
        try {
            return renderOnce(messages, addGenerationPrompt, bosToken, eosToken, extraVariables);
        } catch (ChatTemplateException refusal) {
            if (!SystemRoleFallback.appliesTo(refusal, messages)) {
                throw refusal;
            }
            try {
                return renderOnce(SystemRoleFallback.foldIntoUserTurns(messages), addGenerationPrompt, bosToken,
                        eosToken, extraVariables);
            } catch (ChatTemplateException retryFailure) {
                retryFailure.addSuppressed(refusal);
                throw retryFailure;
            }
        }
    }

    private String renderOnce(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken,
            String eosToken, Map<String, Object> extraVariables) {
        Map<String, Object> bindings =
                bindings(messages, addGenerationPrompt, bosToken, eosToken, extraVariables, clock);
        RenderResult result = JinjaEnvironment.get().render(jinjaSource, bindings);
        throwIfFailed(result.getErrors());
        String text = result.getOutput();
        // The tokenizer adds BOS itself; a second one from the template would be tokenized as text.
        return !bosToken.isEmpty() && text.startsWith(bosToken) ? text.substring(bosToken.length()) : text;
    }

    private static Map<String, Object> bindings(List<ChatMessage> messages, boolean addGenerationPrompt,
            String bosToken, String eosToken, Map<String, Object> extraVariables, Clock clock) {
        // Templates read messages as Python dicts (message['role'], message.content, 'x' in message);
        // fresh mutable maps keep renders independent of each other.
        List<Map<String, Object>> dicts = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            Map<String, Object> dict = new LinkedHashMap<>();
            dict.put("role", message.role());
            dict.put("content", message.content());
            dicts.add(dict);
        }
        Map<String, Object> bindings = new HashMap<>(extraVariables);
        bindings.put(MESSAGES, dicts);
        bindings.put(ADD_GENERATION_PROMPT, addGenerationPrompt);
        bindings.put(BOS_TOKEN, bosToken);
        bindings.put(EOS_TOKEN, eosToken);
        bindings.put(TemplateFunctions.CLOCK_VARIABLE, clock);
        return bindings;
    }

    /**
     * Jinjava keeps rendering after an error and lists it instead of throwing; any fatal error
     * makes the output unusable. A {@code raise_exception} call wins over other errors because its
     * message is the template author's explanation.
     */
    private static void throwIfFailed(List<TemplateError> errors) {
        for (TemplateError error : errors) {
            TemplateRaisedException raised = TemplateFunctions.findRaised(error.getException());
            if (raised != null) {
                throw new ChatTemplateException(Reason.REJECTED_BY_TEMPLATE,
                        "chat template rejected the conversation: " + raised.getMessage(), raised);
            }
        }
        String fatal = errors.stream()
                .filter(e -> e.getSeverity() == ErrorType.FATAL)
                .map(JinjaEnvironment::describe)
                .collect(Collectors.joining("; "));
        if (!fatal.isEmpty()) {
            throw new ChatTemplateException(Reason.RENDER_FAILED, "chat template failed to render: " + fatal
                    + ". The template uses something this engine does not support, or the conversation lacks"
                    + " a field it needs.");
        }
    }
}
