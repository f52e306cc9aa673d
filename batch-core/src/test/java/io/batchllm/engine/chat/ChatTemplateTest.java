package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.chat.ChatTemplateException.Reason;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Behaviour of {@link ChatTemplate} beyond the reference renderings. Expected texts that exercise
 * Jinja semantics were produced with Python Jinja2 3.1.6 configured as HF transformers configures
 * it ({@code trim_blocks=True, lstrip_blocks=True}, loop controls, HF's {@code tojson}).
 */
class ChatTemplateTest {
    private static final List<ChatMessage> HI_YO =
            List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"));

    private static String render(String jinja, List<ChatMessage> messages) {
        return ChatTemplate.compile(jinja).render(messages, true, "<s>", "</s>");
    }

    private static String render(String jinja, Map<String, Object> extra) {
        return ChatTemplate.compile(jinja).render(HI_YO, true, "<s>", "</s>", extra);
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
        assertTrue(e.getMessage().contains("Conversation roles must alternate user/assistant/user/assistant/..."),
                e.getMessage());
    }

    @Test
    void unclosedTagFailsAtCompileNamingTheTag() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("{% for m in messages %}{{ m.content }}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("Missing end tag: endfor"), e.getMessage());
        assertTrue(e.getMessage().contains("(line 1)"), e.getMessage());
    }

    @Test
    void brokenExpressionFailsAtCompileEvenInABranchNoConversationTakes() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("ok\n{% if false %}{{ messages[0].content + }}{% endif %}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("messages[0].content +"), e.getMessage());
        assertTrue(e.getMessage().contains("(line 2)"), e.getMessage());
    }

    @Test
    void unknownTagFailsAtCompile() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("{% frobnicate %}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("Unknown tag: frobnicate"), e.getMessage());
    }

    @Test
    void unknownFilterFailsAtCompileInsteadOfRenderingNothing() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("{{ '|not a filter' }}\n{{ messages[0].content | shout }}"));

        assertEquals(Reason.SYNTAX, e.reason());
        assertTrue(e.getMessage().contains("unknown filter 'shout' (line 2)"), e.getMessage());
        assertTrue(!e.getMessage().contains("'not'"), "a '|' inside a string is not a filter: " + e.getMessage());
    }

    @Test
    void failureOtherThanRaiseExceptionIsReportedAsRenderFailure() {
        ChatTemplate template = ChatTemplate.compile("{{ messages[0].content.frobnicate() }}");

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(HI_YO, true, "", ""));

        assertEquals(Reason.RENDER_FAILED, e.reason());
        assertTrue(e.getMessage().contains("frobnicate"), e.getMessage());
    }

    @Test
    void extraVariablesCannotRedefineTheConversation() {
        ChatTemplate template = ChatTemplate.compile("{{ messages | length }}");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> template.render(HI_YO, true, "", "", Map.of("messages", List.of())));

        assertTrue(e.getMessage().contains("'messages'"), e.getMessage());
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
    void refusalThatDoesNotMentionSystemIsNotRetried() {
        ChatTemplate template = ChatTemplate.compile(
                "{% if messages | length > 1 %}{{ raise_exception('One message only') }}{% endif %}ok");
        List<ChatMessage> conversation = List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U"));

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(conversation, true, "", ""));

        assertTrue(e.getMessage().endsWith("One message only"), e.getMessage());
    }

    @Test
    void failedRetryKeepsTheOriginalRefusalAsSuppressed() {
        ChatTemplate template = ChatTemplate.compile("""
                {% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}
                {% if messages | length > 1 %}{{ raise_exception('Only one turn') }}{% endif %}ok""");
        List<ChatMessage> conversation = List.of(
                new ChatMessage("system", "S"), new ChatMessage("user", "U"), new ChatMessage("assistant", "A"));

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(conversation, true, "", ""));

        assertTrue(e.getMessage().endsWith("Only one turn"), e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertTrue(e.getSuppressed()[0].getMessage().endsWith("System role not supported"));
    }

    // --- Jinja2 semantics ---

    @Test
    void notBindsLooserThanTestsAndComparisonsAsInJinja2() {
        String jinja = "{% if not x is defined %}U{% endif %}|{% if not messages is defined %}D{% endif %}"
                + "|{{ not 1 == 2 }}|{{ not 'x' in 'abc' }}|{{ 'x' not in 'abc' }}";

        assertEquals("U||true|true|true", render(jinja, HI_YO));
    }

    @Test
    void llamaKeepsAGivenDateStringInsteadOfItsDefault() {
        ChatTemplate llama = ChatTemplate.compile(
                ChatTemplatesTestData.template("meta-llama-Llama-3.1-8B-Instruct.jinja"));

        String rendered = llama.render(List.of(new ChatMessage("user", "Hi")), true, "<|begin_of_text|>", "",
                Map.of("date_string", "01 Jan 2025"));

        assertTrue(rendered.contains("Today Date: 01 Jan 2025\n"), rendered);
    }

    @Test
    void trimBlocksAndLstripBlocksMatchJinja2() {
        assertEquals("    user\n    assistant\n",
                render("{% for m in messages %}\n    {{ m.role }}\n{% endfor %}", HI_YO));
        assertEquals("  x\nend", render("  {% if true %}\n  x\n  {% endif %}\nend", HI_YO));
        assertEquals("AB", render("{# comment #}\nA\n  {#- c2 -#}  \nB", HI_YO));
        assertEquals("[hi][yo]", render("{%- for m in messages -%}\n  [{{ m.content }}]\n{%- endfor %}\n", HI_YO));
    }

    @Test
    void lstripBlocksLeavesWhitespaceBeforeMidLineTags() {
        assertEquals("a, b", render("a, {% if true %}b{% endif %}", HI_YO));
        assertEquals("x b  d", render("{{ 'x' }} {% if true %}b{% endif %} {# it's #} d", HI_YO));
        assertEquals("A\n  b", render("A\n  {%+ if true %}b{% endif %}", HI_YO));
    }

    @Test
    void oneTrailingNewlineOfTheTemplateIsDropped() {
        assertEquals("a\nb", render("{{ 'a' }}\n{{ 'b' }}\n", HI_YO));
    }

    @Test
    void pythonStringMethodsBehaveAsInPython() {
        Map<String, Object> s = Map.of("s", "  Hello World  ");

        assertEquals("Hello World|true|  HELLO WORLD  |['  Hell', ' W', 'rld  ']|['Hello', 'World']"
                        + "|Hello World  .|  Hello World  |  hello world  |  Hello World.",
                render("{{ s.strip() }}|{{ s.startswith('  H') }}|{{ s.upper() }}|{{ s.split('o') }}|{{ s.split() }}"
                        + "|{{ s.lstrip() }}.|{{ s.title() }}|{{ s.lower() }}|{{ s.rstrip() }}.", s));
        assertEquals("['a', 'b', '', 'c', '']|['a', 'b ']|['a', 'b-c']|hi|Hello world|They'Re 1St|bba|true",
                render("{{ 'a,b,,c,'.split(',') }}|{{ '  a  b '.split(None, 1) }}|{{ 'a-b-c'.split('-', 1) }}"
                        + "|{{ 'xxhixx'.strip('x') }}|{{ 'hello world'.capitalize() }}|{{ \"they're 1st\".title() }}"
                        + "|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'ab'.endswith(('x', 'b')) }}", s));
    }

    @Test
    void splitTakesLiteralSeparatorsNotRegexes() {
        assertEquals("c", render("{{ 'a.b.c'.split('.')[-1] }}", HI_YO));
    }

    @Test
    void wrongArgumentsToAStringMethodFailTheRender() {
        ChatTemplate template = ChatTemplate.compile("{{ 'abc'.upper(1) }}");

        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(HI_YO, true, "", ""));

        assertTrue(e.getMessage().contains("str.upper() takes no arguments (1 given)"), e.getMessage());
    }

    @Test
    void tojsonWritesPythonJsonDumps() {
        Map<String, Object> d = new java.util.LinkedHashMap<>();
        d.put("name", "f");
        d.put("n", java.util.Arrays.asList(1L, 2.5, true, null));
        d.put("e", Map.of());

        assertEquals("{\"name\": \"f\", \"n\": [1, 2.5, true, null], \"e\": {}}"
                        + "|{\n  \"name\": \"f\",\n  \"n\": [\n    1,\n    2.5,\n    true,\n    null\n  ],\n  \"e\": {}\n}"
                        + "|[]|\"q\\\"\\\\\\n\\tü\"",
                render("{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ [] | tojson }}|{{ q | tojson }}",
                        Map.of("d", d, "q", "q\"\\\n\tü")));
    }

    @Test
    void itemsFilterUnpacksKeysAndValues() {
        Map<String, Object> d = new java.util.LinkedHashMap<>();
        d.put("a", 1L);
        d.put("b", "x");

        assertEquals("a=1;b=\"x\";", render("{% for k, v in d | items %}{{ k }}={{ v | tojson }};{% endfor %}",
                Map.of("d", d)));
    }

    @Test
    void namespaceLoopVariablesSlicingAndBreakWork() {
        assertEquals("FL2", render("{% set ns = namespace(n=0) %}{% for m in messages %}{% if loop.first %}F{% endif %}"
                + "{% set ns.n = ns.n + 1 %}{% if loop.last %}L{{ ns.n }}{% endif %}{% endfor %}", HI_YO));
        assertEquals("1|assistant|abcde|1", render("{{ messages[1:] | length }}|{{ messages[-1].role }}"
                + "|{{ 'abcdef'[:-1] }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}", HI_YO));
        assertEquals("user", render(
                "{% for m in messages %}{% if loop.index0 == 1 %}{% break %}{% endif %}{{ m.role }}{% endfor %}", HI_YO));
    }

    @Test
    void loopFilterSkipsItemsAndLoopVariablesCountOnlyKeptOnes() {
        List<ChatMessage> conversation = List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"),
                new ChatMessage("user", "x"), new ChatMessage("assistant", "z"), new ChatMessage("user", "q"));
        Map<String, Object> d = new java.util.LinkedHashMap<>();
        d.put("a", 1L);
        d.put("b", "x");
        d.put("return", 2L);

        assertEquals("1:yo;2:z!;", render("{% for m in messages if m.role == 'assistant' %}{{ loop.index }}:{{ m.content }}"
                + "{% if loop.last %}!{% endif %};{% endfor %}", conversation));
        // Mistral's tool rendering: the filtered-out last key must not leave a dangling separator.
        assertEquals("a=1, b=x", render("{% for k, v in d.items() if k != 'return' %}{{ k }}={{ v }}"
                + "{% if not loop.last %}, {% endif %}{% endfor %}", Map.of("d", d)));
    }

    @Test
    void filtersBindTighterThanPlus() {
        assertEquals("aHello Worldb", render("{{ 'a' + s | trim + 'b' }}", Map.of("s", "  Hello World  ")));
    }

    @Test
    void generationTagPrintsItsBody() {
        assertEquals("<a>yo</a>", render(
                "{% for m in messages if m.role == 'assistant' %}<a>{% generation %}{{ m.content }}{% endgeneration %}</a>"
                        + "{% endfor %}", HI_YO));
    }

    @Test
    void strftimeNowReadsTheGivenClock() {
        Clock clock = Clock.fixed(Instant.parse("2024-07-26T23:30:00Z"), ZoneOffset.UTC);

        String rendered = ChatTemplate.compile("{{ strftime_now('%d %b %Y') }}", clock).render(HI_YO, true, "", "");

        assertEquals("26 Jul 2024", rendered);
    }

    @Test
    void sourceIsKeptAsGiven() {
        assertEquals("x\n", ChatTemplate.compile("x\n").source());
    }
}
