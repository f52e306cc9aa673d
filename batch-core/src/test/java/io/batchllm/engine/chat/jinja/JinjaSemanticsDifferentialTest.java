package io.batchllm.engine.chat.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.chat.PythonJinja;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each snippet of {@code semantics-cases.txt} (printing, arithmetic, strings, filters, tests,
 * loops, macros, scoping, whitespace control, errors) renders exactly as Python's jinja2 renders
 * it with Hugging Face's setup, or fails with jinja2's message.
 */
class JinjaSemanticsDifferentialTest {
    private static final String MARKER = "=== ";

    /** The variables every snippet sees (the reference gets the same, as JSON). */
    static Map<String, Object> variables() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("s", "  Hello World  ");
        v.put("t", "they're 1st");
        v.put("u", "\u00A0x\u3000");
        v.put("n", 7);
        v.put("f", 2.5);
        v.put("big", BigInteger.TEN.pow(20));
        v.put("l", List.of(3, 1, 2));
        v.put("sl", List.of("b", "A", "a"));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("b", 1);
        d.put("a", Arrays.asList(1.5, true, null, "é\"<"));
        v.put("d", d);
        v.put("msgs", List.of(ordered("role", "user", "content", "hi"), ordered("role", "assistant", "content", "yo")));
        v.put("yes", true);
        v.put("nested", ordered("x", ordered("y", List.of(1, ordered("z", "deep")))));
        v.put("tools", List.of(ordered("type", "function", "function", ordered("name", "get_weather",
                "parameters", ordered("type", "object", "properties", ordered("city", ordered("type", "string")))))));
        return v;
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    record Case(String name, String source) {
    }

    static List<Case> cases() throws IOException {
        String text;
        try (InputStream in = JinjaSemanticsDifferentialTest.class.getResourceAsStream("semantics-cases.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Case> cases = new ArrayList<>();
        String[] parts = ("\n" + text).split("\n" + MARKER);
        for (int i = 1; i < parts.length; i++) {
            int newline = parts[i].indexOf('\n');
            cases.add(new Case(parts[i].substring(0, newline), parts[i].substring(newline + 1)));
        }
        return cases;
    }

    @Test
    void everySnippetRendersAsJinja2() throws IOException {
        List<Case> cases = cases();
        assertTrue(cases.size() > 100, "semantics-cases.txt should hold over 100 cases, found " + cases.size());
        Map<String, Object> variables = variables();
        ObjectNode request = PythonJinja.request(Map.of());
        ArrayNode requested = (ArrayNode) request.get("cases");
        for (Case c : cases) {
            ObjectNode node = requested.addObject();
            node.put("source", c.source());
            node.set("variables", PythonJinja.JSON.valueToTree(variables));
        }
        List<PythonJinja.Result> expected = PythonJinja.run(request);
        Clock clock = Clock.fixed(LocalDateTime.parse(PythonJinja.NOW).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            String problem = compare(cases.get(i), expected.get(i), variables, clock);
            if (problem != null) {
                failures.add(cases.get(i).name() + ": " + problem);
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + cases.size() + " snippets differ from jinja2:\n"
                + String.join("\n", failures));
    }

    private static String compare(Case c, PythonJinja.Result want, Map<String, Object> variables, Clock clock) {
        String got;
        try {
            got = JinjaTemplate.parse(c.source()).render(variables, clock, Limits.DEFAULT);
        } catch (JinjaException e) {
            if (!want.failed()) {
                return "jinja2 rendered " + show(want.text()) + ", the project failed: " + e.getMessage();
            }
            if (want.type().equals("RecursionError")) {
                return e.kind() == JinjaException.Kind.LIMIT ? null : "jinja2 recursed without end, project: " + e;
            }
            return e.detail().equals(want.error()) ? null
                    : "jinja2 failed with " + want.type() + ": " + want.error() + "\n    project: " + e.pythonType() + ": "
                    + e.detail();
        }
        if (want.failed()) {
            return "jinja2 failed with " + want.type() + ": " + want.error() + ", the project rendered " + show(got);
        }
        return got.equals(want.text()) ? null : "\n    jinja2:  " + show(want.text()) + "\n    project: " + show(got);
    }

    private static String show(String text) {
        return "'" + text.replace("\n", "\\n") + "'";
    }
}
