package io.batchllm.engine.chat;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.engine.chat.ChatTemplateException.Reason;
import io.batchllm.engine.chat.jinja.JinjaException;
import io.batchllm.engine.chat.jinja.JinjaTemplate;
import io.batchllm.engine.chat.jinja.Limits;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A model's chat template (the Jinja source in its GGUF {@code tokenizer.chat_template}), compiled
 * once and rendered for each chat request into the prompt text.
 *
 * <p>Renders exactly as Hugging Face {@code transformers} does (Python's jinja2 in an immutable
 * sandbox with {@code trim_blocks}, {@code lstrip_blocks}, loop controls, {@code raise_exception},
 * {@code strftime_now} and a {@code tojson} that does not escape HTML; {@code tools} and
 * {@code documents} are None unless given), through {@link JinjaTemplate}. Message text is only
 * ever data: <code>&#123;&#123; 7*7 &#125;&#125;</code> in a message reaches the model as written.
 * Two behaviours of the reference engine (llama.cpp) are kept:
 * <ol>
 *   <li>a BOS token the template prints at the very start is removed, because tokenization adds
 *       BOS itself;</li>
 *   <li>when the template refuses system messages (Gemma 2's "System role not supported"), the
 *       system text is put in front of the next user message, separated by a newline, and the
 *       conversation is rendered again without system messages. "Refuses" is decided once, at
 *       compile time: the template renders a lone user message but raises for a system message
 *       followed by one (and does not raise the same for user/assistant/user), and the retry
 *       happens only for that same refusal. Other refusals, such as Mistral's "After the optional
 *       system message, conversation roles must alternate...", reach the caller.</li>
 * </ol>
 *
 * <p>Every render is bounded by {@link Limits#DEFAULT} (steps, output size, allocation, nesting),
 * so no template can loop forever or exhaust memory; a render past a bound fails with
 * {@link Reason#LIMIT_EXCEEDED}.
 *
 * <p>{@code strftime_now} reads the clock given to {@link #compile(String, Clock)}; by default the
 * system clock in the system time zone, as Python's {@code datetime.now()}.
 *
 * <p>Immutable and thread-safe.
 */
public final class ChatTemplate {
    private static final ObjectMapper ARGUMENTS = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final String MESSAGES = "messages";
    private static final String ADD_GENERATION_PROMPT = "add_generation_prompt";
    private static final String BOS_TOKEN = "bos_token";
    private static final String EOS_TOKEN = "eos_token";
    private static final Set<String> RESERVED_VARIABLES = Set.of(MESSAGES, ADD_GENERATION_PROMPT, BOS_TOKEN, EOS_TOKEN);
    /** Variables Hugging Face always passes, as None when the caller gives none. */
    private static final List<String> NONE_UNLESS_GIVEN = List.of("tools", "documents");

    /** Bounds of the compile-time probes; a template needing more for three messages is broken anyway. */
    private static final Limits PROBE_LIMITS = new Limits(1_000_000, 1L << 20, 8L << 20, Limits.DEFAULT.maxDepth());
    private static final List<ChatMessage> PROBE_USER = List.of(new ChatMessage("user", "Hello"));
    private static final List<ChatMessage> PROBE_SYSTEM =
            List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hello"));
    private static final List<ChatMessage> PROBE_TURNS = List.of(new ChatMessage("user", "Hello"),
            new ChatMessage("assistant", "Hi!"), new ChatMessage("user", "Bye"));

    private final String source;
    private final JinjaTemplate template;
    private final Clock clock;
    /** What the template raises for a system message, when it has no system role; else null. */
    private final String systemRoleRefusal;

    private ChatTemplate(String source, JinjaTemplate template, Clock clock) {
        this.source = source;
        this.template = template;
        this.clock = clock;
        this.systemRoleRefusal = probeSystemRoleRefusal();
    }

    /**
     * Compiles a template whose {@code strftime_now} reads the system clock.
     *
     * @param jinjaSource the Jinja source, as stored in {@code tokenizer.chat_template}
     * @return the compiled template
     * @throws ChatTemplateException ({@link Reason#SYNTAX}) naming the problem and its line when the
     *     template does not parse, uses a filter or test that does not exist, or uses what this
     *     engine refuses (include, import, extends, recursive loops)
     */
    public static ChatTemplate compile(String jinjaSource) {
        return compile(jinjaSource, Clock.systemDefaultZone());
    }

    /**
     * Compiles a template.
     *
     * @param jinjaSource the Jinja source, as stored in {@code tokenizer.chat_template}
     * @param clock the clock {@code strftime_now} reads, in its time zone
     * @return the compiled template
     * @throws ChatTemplateException ({@link Reason#SYNTAX}) as {@link #compile(String)}
     */
    public static ChatTemplate compile(String jinjaSource, Clock clock) {
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        Objects.requireNonNull(clock, "clock");
        try {
            return new ChatTemplate(jinjaSource, JinjaTemplate.parse(jinjaSource), clock);
        } catch (JinjaException e) {
            throw new ChatTemplateException(Reason.SYNTAX, "chat template does not compile: " + e.getMessage()
                    + ". Fix the template (or pass a corrected one) before using it.", e);
        }
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
     *     {@code tools}: strings, booleans, numbers, null, and lists and maps of those; must not
     *     redefine {@code messages}, {@code add_generation_prompt}, {@code bos_token} or
     *     {@code eos_token}
     * @return the prompt text, without a leading BOS
     * @throws ChatTemplateException {@link Reason#REJECTED_BY_TEMPLATE} with the template's own
     *     message when the template refuses the conversation, {@link Reason#LIMIT_EXCEEDED} when
     *     rendering goes past its bounds, {@link Reason#RENDER_FAILED} when it fails otherwise
     *     (with jinja2's message, e.g. {@code 'dict object' has no attribute 'x'})
     * @throws IllegalArgumentException when {@code extraVariables} redefines a reserved variable or
     *     holds a value of another kind
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken,
            Map<String, ?> extraVariables) {
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
        } catch (JinjaException refusal) {
            if (!refusesSystemRole(refusal, messages)) {
                throw failure(refusal);
            }
            try {
                return renderOnce(SystemRoleFallback.foldIntoUserTurns(messages), addGenerationPrompt, bosToken,
                        eosToken, extraVariables);
            } catch (JinjaException retryFailure) {
                ChatTemplateException e = failure(retryFailure);
                e.addSuppressed(failure(refusal));
                throw e;
            }
        }
    }

    private boolean refusesSystemRole(JinjaException e, List<ChatMessage> messages) {
        return systemRoleRefusal != null && e.kind() == JinjaException.Kind.RAISED
                && e.detail().equals(systemRoleRefusal) && SystemRoleFallback.hasSystemMessage(messages);
    }

    /**
     * Whether the template refuses system messages: it renders a lone user message, but raises for
     * a system message followed by the same user message, and that refusal is not one it also
     * makes for a conversation of several turns without a system message. That refusal's text, or
     * null.
     */
    private String probeSystemRoleRefusal() {
        if (probeRefusal(PROBE_USER) != null) {
            return null;
        }
        String refusal = probeRefusal(PROBE_SYSTEM);
        return refusal != null && !refusal.isEmpty() && !refusal.equals(probeRefusal(PROBE_TURNS)) ? refusal : null;
    }

    /** What the template raises for a conversation, "" for another failure, null when it renders. */
    private String probeRefusal(List<ChatMessage> conversation) {
        try {
            renderOnce(conversation, true, "", "", Map.of(), PROBE_LIMITS);
            return null;
        } catch (JinjaException e) {
            return e.kind() == JinjaException.Kind.RAISED ? e.detail() : "";
        }
    }

    private String renderOnce(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken,
            String eosToken, Map<String, ?> extraVariables) {
        return renderOnce(messages, addGenerationPrompt, bosToken, eosToken, extraVariables, Limits.DEFAULT);
    }

    private String renderOnce(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken,
            String eosToken, Map<String, ?> extraVariables, Limits limits) {
        Map<String, Object> variables = new HashMap<>();
        for (String name : NONE_UNLESS_GIVEN) {
            variables.put(name, null);
        }
        variables.putAll(extraVariables);
        variables.put(MESSAGES, dicts(messages));
        variables.put(ADD_GENERATION_PROMPT, addGenerationPrompt);
        variables.put(BOS_TOKEN, bosToken);
        variables.put(EOS_TOKEN, eosToken);
        String text = template.render(variables, clock, limits);
        // The tokenizer adds BOS itself; a second one from the template would be tokenized as text.
        return !bosToken.isEmpty() && text.startsWith(bosToken) ? text.substring(bosToken.length()) : text;
    }

    /** Messages as the dicts templates read ({@code message['role']}, {@code 'tool_calls' in message}). */
    private static List<Map<String, Object>> dicts(List<ChatMessage> messages) {
        List<Map<String, Object>> dicts = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            Map<String, Object> dict = new LinkedHashMap<>();
            dict.put("role", message.role());
            dict.put("content", message.content());
            if (message.name() != null) {
                dict.put("name", message.name());
            }
            if (message.toolCallId() != null) {
                dict.put("tool_call_id", message.toolCallId());
            }
            if (!message.toolCalls().isEmpty()) {
                List<Map<String, Object>> calls = new ArrayList<>();
                for (ChatMessage.ToolCall call : message.toolCalls()) {
                    Map<String, Object> function = new LinkedHashMap<>();
                    function.put("name", call.name());
                    function.put("arguments", arguments(call.arguments()));
                    Map<String, Object> dictCall = new LinkedHashMap<>();
                    dictCall.put("id", call.id());
                    dictCall.put("type", "function");
                    dictCall.put("function", function);
                    calls.add(dictCall);
                }
                dict.put("tool_calls", calls);
            }
            dicts.add(dict);
        }
        return dicts;
    }

    /**
     * A call's arguments as templates expect them: the object its JSON text encodes, as vLLM passes
     * them (following transformers' guidance; Qwen's template writes {@code arguments | tojson}, which
     * of a string gives a quoted string), or the text itself when it is not a JSON object.
     */
    private static Object arguments(String json) {
        try {
            JsonNode node = ARGUMENTS.readTree(json);
            return node != null && node.isObject() ? TemplateValues.of(node) : json;
        } catch (JacksonException e) {
            return json;
        }
    }

    private static ChatTemplateException failure(JinjaException e) {
        return switch (e.kind()) {
            case RAISED -> new ChatTemplateException(Reason.REJECTED_BY_TEMPLATE,
                    "chat template rejected the conversation: " + e.detail(), e);
            case LIMIT -> new ChatTemplateException(Reason.LIMIT_EXCEEDED, "chat template rendering stopped: "
                    + e.getMessage() + ". The model's chat template is faulty or hostile; fix or replace it.", e);
            default -> new ChatTemplateException(Reason.RENDER_FAILED, "chat template failed to render: "
                    + e.pythonType() + ": " + e.getMessage()
                    + ". The conversation lacks something the template needs, or the template is faulty.", e);
        };
    }
}
