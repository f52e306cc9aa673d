package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.chat.ChatMessage.ToolCall;
import io.batchllm.engine.chat.ChatTemplateException.Reason;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Behaviour of {@link ChatTemplate} beyond the reference renderings, with a regression test for
 * each way the Jinjava-based renderer differed from Hugging Face. Expected texts of real
 * templates are Python jinja2 3.1.6's, rendered as {@code src/test/python/render_chat_templates.py}
 * renders them.
 */
class ChatTemplateTest {
    private static final List<ChatMessage> HI_YO =
            List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"));
    private static final String EACH_CONTENT = "{% for m in messages %}[{{ m.content }}]{% endfor %}";

    private static String render(String jinja, List<ChatMessage> messages) {
        return ChatTemplate.compile(jinja).render(messages, true, "<s>", "</s>");
    }

    private static String renderShared(String template, List<ChatMessage> messages, Map<String, Object> extra) {
        Clock clock = Clock.fixed(Instant.parse("2025-03-09T08:00:00Z"), ZoneOffset.UTC);
        return ChatTemplate.compile(ChatTemplatesTestData.template(template), clock)
                .render(messages, true, "<s>", "</s>", extra);
    }

    private static List<ChatMessage> contents(String... texts) {
        return java.util.Arrays.stream(texts).map(t -> new ChatMessage("user", t)).toList();
    }

    // --- raise_exception and errors ---

    @Test
    void raiseExceptionRefusesTheConversationWithTheTemplatesMessage() {
        ChatTemplate template = ChatTemplate.compile(
                "{% if messages | length > 1 %}{{ raise_exception('Only one message, please') }}{% endif %}ok");

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(HI_YO, true, "", ""));

        assertEquals(Reason.REJECTED_BY_TEMPLATE, e.reason());
        assertEquals("chat template rejected the conversation: Only one message, please", e.getMessage());
    }

    @Test
    void gemmaRefusesRolesThatDoNotAlternate() {
        ChatTemplate gemma = ChatTemplate.compile(ChatTemplatesTestData.template("google-gemma-2-2b-it.jinja"));
        List<ChatMessage> twoUsers = List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b"));

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> gemma.render(twoUsers, true, "<bos>", "<eos>"));

        assertEquals(Reason.REJECTED_BY_TEMPLATE, e.reason());
        assertEquals("chat template rejected the conversation: Conversation roles must alternate"
                + " user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void unclosedTagFailsAtCompileWithJinja2sMessageAndLine() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("{% for m in messages %}{{ m.content }}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("Unexpected end of template. Jinja was looking for the following tags:"
                + " 'endfor' or 'else'. The innermost block that needs to be closed is 'for'. (template line 1)"),
                e.getMessage());
    }

    @Test
    void brokenExpressionFailsAtCompileEvenInABranchNoConversationTakes() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("ok\n{% if false %}{{ messages[0].content + }}{% endif %}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("unexpected 'end of print statement' (template line 2)"), e.getMessage());
    }

    @Test
    void unknownTagFailsAtCompile() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("{% frobnicate %}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("Encountered unknown tag 'frobnicate'."), e.getMessage());
    }

    @Test
    void unknownFilterFailsAtCompileInsteadOfRenderingNothing() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("{{ '|not a filter' }}\n{{ messages[0].content | shout }}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("No filter named 'shout'. (template line 2)"), e.getMessage());
        assertFalse(e.getMessage().contains("'not'"), "a '|' inside a string is not a filter: " + e.getMessage());
    }

    @Test
    void failureOtherThanRaiseExceptionIsAFailedRenderWithJinja2sMessage() {
        ChatTemplate template = ChatTemplate.compile("\n{{ messages[0].content.frobnicate() }}");

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(HI_YO, true, "", ""));

        assertEquals(Reason.RENDER_FAILED, e.reason());
        assertTrue(e.getMessage().contains("UndefinedError: 'str object' has no attribute 'frobnicate' (template line 2)"),
                e.getMessage());
    }

    @Test
    void extraVariablesCannotRedefineTheConversation() {
        ChatTemplate template = ChatTemplate.compile("{{ messages | length }}");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> template.render(HI_YO, true, "", "", Map.of("messages", List.of())));

        assertTrue(e.getMessage().contains("'messages'"), e.getMessage());
    }

    @Test
    void toolsAndDocumentsAreNoneUnlessGiven() {
        assertEquals("True|True|False", render("{{ tools is none }}|{{ documents is none }}|{{ tools is undefined }}",
                HI_YO));
        assertEquals("['t']", ChatTemplate.compile("{{ tools }}").render(HI_YO, true, "", "", Map.of("tools", List.of("t"))));
    }

    // --- BOS handling ---

    @Test
    void leadingBosIsStrippedOnce() {
        assertEquals("<s>x", render("{{ bos_token }}{{ bos_token }}x", HI_YO));
    }

    @Test
    void templateWithoutBosAtStartIsLeftUntouched() {
        assertEquals("x<s>", render("x{{ bos_token }}", HI_YO));
        assertEquals(" <s>user", render(" {{ bos_token }}{{ messages[0].role }}", HI_YO));
    }

    @Test
    void emptyBosTokenStripsNothing() {
        String rendered = ChatTemplate.compile("<s>{{ bos_token }}x").render(HI_YO, true, "", "");

        assertEquals("<s>x", rendered);
    }

    // --- system role fallback ---

    @Test
    void systemMessagesAreFoldedIntoUserTurnsForAnyTemplateThatRefusesThem() {
        ChatTemplate template = ChatTemplate.compile("""
                {% for m in messages %}
                {% if m.role == 'system' %}{{ raise_exception('This model has no system prompt') }}{% endif %}
                [{{ m.role }}:{{ m.content }}]
                {% endfor %}""");
        List<ChatMessage> conversation = List.of(
                new ChatMessage("system", "A"), new ChatMessage("user", "B"), new ChatMessage("assistant", "C"),
                new ChatMessage("system", "D"), new ChatMessage("user", "E"), new ChatMessage("system", "F"));

        String rendered = template.render(conversation, true, "", "");

        assertEquals("[user:A\nB]\n[assistant:C]\n[user:D\nE]\n[user:F]\n", rendered);
    }

    @Test
    void refusalThatIsNotAboutTheSystemRoleIsNotRetried() {
        ChatTemplate template = ChatTemplate.compile(
                "{% if messages | length > 1 %}{{ raise_exception('One message only') }}{% endif %}ok");
        List<ChatMessage> conversation = List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U"));

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(conversation, true, "", ""));

        assertEquals("chat template rejected the conversation: One message only", e.getMessage());
    }

    /** Regression: the fold fired on any refusal mentioning "system", so Mistral got a prompt. */
    @Test
    void mistralsAlternationRefusalMentioningSystemIsReportedNotFolded() {
        List<ChatMessage> conversation = List.of(new ChatMessage("system", "S"), new ChatMessage("user", "a"),
                new ChatMessage("user", "b"));

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> renderShared("mistralai-Mistral-Nemo-Instruct-2407.jinja", conversation, Map.of()));

        assertEquals(Reason.REJECTED_BY_TEMPLATE, e.reason());
        assertEquals("chat template rejected the conversation: After the optional system message, conversation roles"
                + " must alternate user/assistant/user/assistant/...", e.getMessage());
        assertEquals(0, e.getSuppressed().length, "rendered once, not retried");
    }

    @Test
    void failedRetryKeepsTheOriginalRefusalAsSuppressed() {
        ChatTemplate template = ChatTemplate.compile("""
                {% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}
                {% if messages | length > 2 %}{{ raise_exception('At most two turns') }}{% endif %}ok""");
        List<ChatMessage> conversation = List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U"),
                new ChatMessage("assistant", "A"), new ChatMessage("user", "B"));

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(conversation, true, "", ""));

        assertTrue(e.getMessage().endsWith("At most two turns"), e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertTrue(e.getSuppressed()[0].getMessage().endsWith("System role not supported"));
    }

    // --- message content is data (issue 9, issue 8 item 6) ---

    /** Regression: Jinjava interpreted message content as template code ({{ 7*7 }} became 49). */
    @Test
    void contentThatLooksLikeTemplateCodeReachesTheModelVerbatim() {
        List<String> texts = List.of("{{ 7*7 }}", "{{ messages }}", "{% for x in messages %}{{ x }}{% endfor %}",
                "{% raw %}", "{{ raise_exception(\"A\" ~ (6*7)) }}", "{% include \"META-INF/MANIFEST.MF\" %}",
                "{{ bos_token }}", "{#", "{{");

        String rendered = render(EACH_CONTENT, contents(texts.toArray(String[]::new)));

        assertEquals("[" + String.join("][", texts) + "]", rendered);
    }

    /** Regression (issue 8 item 7): a 90-byte line of nested loops ran the server out of memory. */
    @Test
    void nestedLoopsInAMessageAreJustText() {
        String line = "{% for a in range(99999) %}{% for b in range(99999) %}{{ a * b }}{% endfor %}{% endfor %}";

        assertEquals("[" + line + "]", render(EACH_CONTENT, contents(line)));
    }

    /** Regression (issue 8 item 6): a template could read the jar's resources with include. */
    @Test
    void templatesCannotIncludeImportOrExtendAnything() {
        for (String tag : List.of("{% include 'META-INF/MANIFEST.MF' %}", "{% import 'x' as y %}",
                "{% from 'x' import y %}", "{% extends 'base' %}")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.compile("a" + tag));

            assertEquals(Reason.SYNTAX, e.reason(), tag);
            assertTrue(e.getMessage().contains("is not supported: a chat template cannot use other templates or files"),
                    e.getMessage());
        }
    }

    /** Regression: control characters came out as escapes (backslash, "u00", two hex digits). */
    @Test
    void controlCharactersReachTheModelVerbatim() {
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }

        assertEquals("[" + controls + "]", render(EACH_CONTENT, contents(controls.toString())));
    }

    // --- Jinja2 semantics the shared templates depend on ---

    /** Regression: trim stripped Java's whitespace set, and an undefined value trimmed to "null". */
    @Test
    void trimStripsPythonsWhitespaceAndUndefinedTrimsToNothing() {
        String rendered = render("{% for m in messages %}[{{ m.content | trim }}]{% endfor %}[{{ nothing | trim }}]",
                contents("\u0085\u001C hi \u3000\u2028", "\u200Bhi\u200B", "\u0000x\u0001"));

        assertEquals("[hi][\u200Bhi\u200B][\u0000x\u0001][]", rendered);
    }

    /** Regression: a string was not iterable, so Llama 3.x tool results lost their tojson quoting. */
    @Test
    void llamaQuotesAToolResultStringAsJson() {
        List<ChatMessage> conversation = List.of(new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", null, null, null, List.of(new ToolCall("call_1", "f", "{}"))),
                new ChatMessage("tool", "abc", null, "call_1", List.of()));

        String rendered = renderShared("meta-llama-Llama-3.1-8B-Instruct.jinja", conversation, Map.of());

        // the arguments reach the template as the object their JSON encodes, as vLLM passes them
        assertTrue(rendered.endsWith("<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"f\", \"parameters\":"
                + " {}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"abc\"<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n"), rendered);
    }

    /** Regression: {@code strftime_now is defined} was false, so Llama 3.2 printed a fixed date. */
    @Test
    void llama32PrintsTodaysDateFromTheClock() {
        String rendered = renderShared("meta-llama-Llama-3.2-3B-Instruct.jinja", List.of(new ChatMessage("user", "Hi")),
                Map.of());

        assertTrue(rendered.contains("Today Date: 09 Mar 2025\n"), rendered);
    }

    @Test
    void llamaKeepsAGivenDateStringInsteadOfItsDefault() {
        String rendered = renderShared("meta-llama-Llama-3.1-8B-Instruct.jinja", List.of(new ChatMessage("user", "Hi")),
                Map.of("date_string", "01 Jan 2025"));

        assertTrue(rendered.contains("Today Date: 01 Jan 2025\n"), rendered);
    }

    /** Regression: the string "false" was false, so Phi-3.5 dropped a system message saying "false". */
    @Test
    void theStringFalseIsTrueAsInPython() {
        String rendered = renderShared("microsoft-Phi-3.5-mini-instruct.jinja",
                List.of(new ChatMessage("system", "false"), new ChatMessage("user", "Hi")), Map.of());

        assertEquals("<|system|>\nfalse<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n", rendered);
    }

    /** Regression: a comment after {@code -%}} lost the next line's indentation (Command-R7b tool results). */
    @Test
    void commandR7bToolResultsKeepTheirIndentation() {
        List<ChatMessage> conversation = List.of(new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", null, null, null, List.of(new ToolCall("c1", "f", "{}"))),
                new ChatMessage("tool", "42", null, "c1", List.of()));

        String rendered = renderShared("CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", conversation, Map.of());

        assertTrue(rendered.endsWith("<|START_TOOL_RESULT|>[\n    {\n        \"tool_call_id\": \"0\",\n"
                + "        \"results\": {\n            \"0\": \"42\"\n        },\n        \"is_error\": null\n    }\n"
                + "]<|END_TOOL_RESULT|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"), rendered);
    }

    /**
     * Regressions: {@code loop.previtem}/{@code loop.nextitem} were missing (Hermes' tool turns) and
     * recursive macros printed nothing (its {@code json_to_python_type}).
     */
    @Test
    void hermesGroupsToolResultsAndTypesParametersRecursively() {
        List<ChatMessage> conversation = List.of(new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", null, null, null, List.of(new ToolCall("c1", "f", "{}"))),
                new ChatMessage("tool", "42", null, "c1", List.of()), new ChatMessage("tool", "43", null, "c2", List.of()),
                new ChatMessage("assistant", "Done"));
        Map<String, Object> tags = ConversationGenerator.map("type", "array", "items", Map.of("type", "string"),
                "description", "Tags");
        Map<String, Object> tool = ConversationGenerator.map("type", "function", "function", ConversationGenerator.map(
                "name", "f", "description", "Find.", "parameters", ConversationGenerator.map("type", "object",
                        "properties", Map.of("tags", tags), "required", List.of())));

        String rendered = renderShared("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", conversation,
                Map.of("tools", List.of(tool)));

        assertTrue(rendered.contains("\"description\": \"f(tags: list[Union[]]) - Find.\n\n    Args:\n"
                + "        tags(list[Union[]]): Tags\""), rendered);
        assertTrue(rendered.endsWith("<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n"
                + "</tool_call><|im_end|>\n<|im_start|>tool\n<tool_response>\n42\n</tool_response>\n<tool_response>\n43\n"
                + "</tool_response>\n<|im_end|><|im_start|>assistant\nDone<|im_end|>\n<|im_start|>assistant\n"), rendered);
    }

    /** Regression: numbers, booleans and None printed Java-style ({@code 1.0E16}, {@code true}). */
    @Test
    void valuesPrintAsPythonPrintsThem() {
        assertEquals("1e+16|True|None|3.0|[1, 'a', None]|{'k': False}",
                render("{{ 1e16 }}|{{ true }}|{{ none }}|{{ 3.0 }}|{{ [1, 'a', none] }}|{{ {'k': false} }}", HI_YO));
    }

    /** Regression: {@code {% filter %}} blocks were refused at compile time (Firefunction-v2). */
    @Test
    void firefunctionTrimsItsSystemPromptWithAFilterBlock() {
        String rendered = renderShared("fireworks-ai-llama-3-firefunction-v2.jinja", List.of(new ChatMessage("user", "Hi")),
                Map.of("functions", "[]", "datetime", "2025-03-09"));

        assertTrue(rendered.startsWith("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant with"
                + " access to functions.\nIn addition to plain text responses,"), rendered);
        assertTrue(rendered.endsWith("Available functions as JSON spec:\n[]\nToday is 2025-03-09.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
                rendered);
    }

    /** Regression: a tool message's tool_call_id was dropped and tool calls could not be expressed. */
    @Test
    void mistralRendersToolCallsAndToolResults() {
        List<ChatMessage> conversation = List.of(new ChatMessage("user", "Weather?"),
                new ChatMessage("assistant", null, null, null,
                        List.of(new ToolCall("abcDEF123", "get_weather", "{\"city\": \"Paris\"}"))),
                new ChatMessage("tool", "22C", null, "abcDEF123", List.of()),
                new ChatMessage("assistant", "It is 22C."), new ChatMessage("user", "Thanks"));

        String rendered = renderShared("mistralai-Mistral-Nemo-Instruct-2407.jinja", conversation, Map.of());

        assertEquals("[INST]Weather?[/INST][TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\":"
                + " \"Paris\"}, \"id\": \"abcDEF123\"}]</s>[TOOL_RESULTS]{\"content\": 22C, \"call_id\":"
                + " \"abcDEF123\"}[/TOOL_RESULTS]It is 22C.</s>[INST]Thanks[/INST]", rendered);
    }

    @Test
    void messageKeysAreOnlyThoseTheMessageHas() {
        List<ChatMessage> conversation = List.of(new ChatMessage("user", "u", "ann", null, List.of()),
                new ChatMessage("assistant", null, null, null, List.of(new ToolCall("i", "f", "{}"))),
                new ChatMessage("tool", "r", null, "i", List.of()));

        assertEquals("[role, content, name][role, content, tool_calls][role, content, tool_call_id]",
                render("{% for m in messages %}{{ m | list | replace(\"'\", '') }}{% endfor %}", conversation));
    }

    // --- bounds (issue 8 item 7) ---

    @Test
    void aTemplateThatLoopsTooLongFailsThatRenderWithALimitError() {
        ChatTemplate template = ChatTemplate.compile(
                "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}");

        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(HI_YO, true, "", ""));

        assertEquals(Reason.LIMIT_EXCEEDED, e.reason());
        assertTrue(e.getMessage().contains("steps; the template loops too long"), e.getMessage());
        assertEquals("ok", ChatTemplate.compile("ok").render(HI_YO, true, "", ""), "the next render is unaffected");
    }

    @Test
    void aTemplateThatGrowsAStringWithoutEndFailsWithALimitError() {
        ChatTemplate template = ChatTemplate.compile("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                + "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}");

        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(HI_YO, true, "", ""));

        assertEquals(Reason.LIMIT_EXCEEDED, e.reason());
    }

    // --- other globals and tags ---

    @Test
    void generationTagPrintsItsBody() {
        assertEquals("<a>yo</a>", render(
                "{% for m in messages if m.role == 'assistant' %}<a>{% generation %}{{ m.content }}{% endgeneration %}</a>"
                        + "{% endfor %}", HI_YO));
    }

    @Test
    void strftimeNowReadsTheGivenClock() {
        Clock clock = Clock.fixed(Instant.parse("2024-07-26T23:30:00Z"), ZoneOffset.ofHours(2));

        String rendered = ChatTemplate.compile("{{ strftime_now('%d %b %Y %H:%M') }}", clock).render(HI_YO, true, "", "");

        assertEquals("27 Jul 2024 01:30", rendered, "local time of the clock's zone");
    }

    @Test
    void sourceIsKeptAsGiven() {
        assertEquals("x\n", ChatTemplate.compile("x\n").source());
    }
}
