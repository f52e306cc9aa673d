package io.batchllm.engine.chat;

import io.batchllm.engine.chat.ChatMessage.ToolCall;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded random conversations of the kinds real chat requests have, and the ones that break
 * templates: with or without a system message, 1 to 6 turns, alternating or not, empty content,
 * content holding Jinja syntax, control characters, Unicode whitespace at the edges, long
 * content, tool calls and tool results, tool definitions, generation prompt on and off.
 */
final class ConversationGenerator {
    /** One generated render: the conversation and the variables that go with it. */
    record Case(List<ChatMessage> messages, boolean addGenerationPrompt, List<Object> tools) {
    }

    private static final String[] WORDS = {"hello", "What is 2+2?", "Tell me a joke.", "résumé", "日本語のテキスト",
        "Привет", "مرحبا", "emoji 😀🎉", "line one\nline two", "tab\there", "quote ' and \"double\"", "back\\slash",
        "<b>bold</b> & co", "false", "0", "None", "system", "[INST]", "<|im_end|>", "</s>", "{\"a\": 1}"};
    private static final String[] JINJA = {"{{ 7*7 }}", "{{ messages }}", "{% for m in messages %}{{ m }}{% endfor %}",
        "{% raw %}", "{% endraw %}", "{{ raise_exception('A' ~ (6*7)) }}", "{# comment #}", "{%- if true -%}x{% endif %}",
        "{% include 'META-INF/MANIFEST.MF' %}", "{{ bos_token }}", "{{", "}}", "{%", "%}", "{{- -}}", "{% set x = 1 %}"};
    private static final String[] EDGES = {" ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "\u2003", "\u0085",
        "\u200B", "\u001C", "\u000B", "\f", "\u2028", "\uFEFF"};
    private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private final Random random;

    ConversationGenerator(long seed) {
        this.random = new Random(seed);
    }

    Case next() {
        boolean withTools = random.nextInt(100) < 50;
        List<ChatMessage> messages = new ArrayList<>();
        if (random.nextInt(100) < 40) {
            messages.add(new ChatMessage("system", content()));
        }
        int turns = 1 + random.nextInt(6);
        List<String> pendingIds = new ArrayList<>();
        for (int t = 0; t < turns; t++) {
            int shape = random.nextInt(100);
            if (shape < 6) {
                messages.add(new ChatMessage("assistant", content())); // does not alternate
                continue;
            }
            if (shape < 9) {
                messages.add(new ChatMessage("system", content())); // a system message mid-conversation
            }
            messages.add(random.nextInt(100) < 5
                    ? new ChatMessage("user", content(), "ann", null, List.of()) : new ChatMessage("user", content()));
            if (shape < 15) {
                messages.add(new ChatMessage("user", content())); // two users in a row
            }
            boolean last = t == turns - 1;
            if (last && random.nextBoolean()) {
                break; // end on a user message, the usual shape of a request
            }
            if (withTools && random.nextInt(100) < 50) {
                List<ToolCall> calls = new ArrayList<>();
                int n = random.nextInt(100) < 80 ? 1 : 2;
                for (int i = 0; i < n; i++) {
                    String id = toolCallId();
                    pendingIds.add(id);
                    calls.add(new ToolCall(id, pick(new String[] {"get_weather", "search", "python"}), arguments()));
                }
                String text = random.nextInt(100) < 60 ? null : content();
                messages.add(new ChatMessage("assistant", text, null, null, calls));
                for (String id : pendingIds) {
                    messages.add(new ChatMessage("tool", toolResult(), null, id, List.of()));
                }
                pendingIds.clear();
                if (random.nextBoolean()) {
                    messages.add(new ChatMessage("assistant", content()));
                }
            } else {
                messages.add(new ChatMessage("assistant", content()));
            }
        }
        return new Case(messages, random.nextBoolean(), withTools && random.nextInt(100) < 80 ? tools() : null);
    }

    private String content() {
        int kind = random.nextInt(100);
        StringBuilder text = new StringBuilder();
        if (kind < 7) {
            return "";
        }
        if (kind < 10) {
            int length = 2_000 + random.nextInt(20_000);
            while (text.length() < length) {
                text.append(pick(WORDS)).append(' ');
            }
            return text.toString();
        }
        int parts = 1 + random.nextInt(4);
        for (int i = 0; i < parts; i++) {
            if (i > 0) {
                text.append(' ');
            }
            int part = random.nextInt(100);
            if (part < 18) {
                text.append(pick(JINJA));
            } else if (part < 26) {
                text.append((char) random.nextInt(0x20));
            } else {
                text.append(pick(WORDS));
            }
        }
        if (random.nextInt(100) < 20) {
            text.insert(0, pick(EDGES));
        }
        if (random.nextInt(100) < 20) {
            text.append(pick(EDGES));
        }
        return text.toString();
    }

    private String toolCallId() {
        int length = random.nextInt(100) < 80 ? 9 : 1 + random.nextInt(24);
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < length; i++) {
            id.append(ID_CHARS.charAt(random.nextInt(ID_CHARS.length())));
        }
        return id.toString();
    }

    private String arguments() {
        return switch (random.nextInt(4)) {
            case 0 -> "{\"location\": \"Paris\", \"unit\": \"celsius\"}";
            case 1 -> "{}";
            case 2 -> "{\"query\": \"" + pick(new String[] {"weather", "news", "日本"}) + "\", \"limit\": 5}";
            default -> "print('hi')";
        };
    }

    private String toolResult() {
        return switch (random.nextInt(4)) {
            case 0 -> "{\"temperature\": 22.5, \"unit\": \"celsius\"}";
            case 1 -> "42";
            case 2 -> "";
            default -> content();
        };
    }

    /** One to three OpenAI-style function definitions. */
    private List<Object> tools() {
        List<Object> tools = new ArrayList<>();
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            Map<String, Object> properties = new LinkedHashMap<>();
            properties.put("location", map("type", "string", "description", "The city, e.g. Paris"));
            if (random.nextBoolean()) {
                properties.put("unit", map("type", "string", "enum", List.of("celsius", "fahrenheit"),
                        "description", "Temperature unit"));
            }
            if (random.nextBoolean()) {
                properties.put("days", map("type", "integer", "description", "Forecast days", "default", 1,
                        "maximum", 14));
            }
            if (random.nextInt(100) < 30) {
                properties.put("tags", map("type", "array", "items", map("type", "string"),
                        "description", "Tags"));
            }
            if (random.nextInt(100) < 20) {
                properties.put("when", map("type", List.of("string", "null"), "description", "Date or none"));
            }
            Map<String, Object> parameters = new LinkedHashMap<>();
            parameters.put("type", "object");
            parameters.put("properties", properties);
            parameters.put("required", List.of("location"));
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", pick(new String[] {"get_weather", "get_forecast", "search"}) + i);
            function.put("description", pick(new String[] {"Get the weather", "Look things up.", "It's <fast> & \"ok\""}));
            function.put("parameters", parameters);
            Map<String, Object> tool = new LinkedHashMap<>();
            tool.put("type", "function");
            tool.put("function", function);
            tools.add(tool);
        }
        return tools;
    }

    /** A map with the keys in the order given, so that both renderers see the same order. */
    static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private String pick(String[] options) {
        return options[random.nextInt(options.length)];
    }
}
