package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.chat.ChatTemplates;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.spi.InferenceResult;
import io.batchllm.testing.JsonSchemaOracle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structured outputs through the engine: on the random-weight demo model, outputs under JSON Schemas
 * parse and validate (networknt's validator judges), JSON mode gives objects, {@code guided_choice}
 * only its labels, {@code guided_regex} only matches; on stories260K, greedy output under a
 * constraint equals the free output whenever that one already satisfied it; truncation is
 * {@code length}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StructuredOutputTest {
    private LocalEngine demo;
    private LocalEngine stories;

    @BeforeAll
    void start(@TempDir Path dir) {
        Path file = DemoModel.ensure(dir);
        demo = engine(DemoModel.NAME, file);
        stories = engine("stories", StoriesReference.MODEL);
    }

    private static LocalEngine engine(String name, Path file) {
        try (GgufFile f = GgufFile.open(file)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(f);
            LocalEngine.Builder b = LocalEngine.builder(name, CpuExecutor.load(file, 2), tokenizer);
            ChatTemplates.fromMetadata(f.metadata()).ifPresent(b::chatTemplate);
            return b.start();
        }
    }

    @AfterAll
    void stop() {
        demo.close();
        stories.close();
    }

    private static final List<String> SCHEMAS = List.of(
            """
            {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10},
             "age": {"type": "integer", "minimum": 0, "maximum": 120}, "vip": {"type": "boolean"}},
             "required": ["name", "age", "vip"], "additionalProperties": false}""",
            """
            {"type": "object", "properties": {"label": {"enum": ["spam", "ham", "unsure"]},
             "score": {"type": "number", "minimum": 0, "maximum": 1}, "tags": {"type": "array",
             "items": {"type": "string", "maxLength": 6}, "maxItems": 3}}, "required": ["label", "score"]}""",
            """
            {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string",
             "pattern": "^[A-Z]{3}-[0-9]{4}$"}, "qty": {"type": "integer", "minimum": 1, "maximum": 99},
             "when": {"type": "string", "format": "date"}}, "required": ["sku", "qty"],
             "additionalProperties": false}, "minItems": 1, "maxItems": 3}""");

    @Test
    void everyOutputUnderAJsonSchemaParsesAndValidates() throws Exception {
        List<ObjectNode> bodies = new ArrayList<>();
        List<JsonNode> schemas = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            JsonNode schema = Bodies.read(SCHEMAS.get(i % SCHEMAS.size()));
            ObjectNode body = Bodies.chat(DemoModel.NAME, "Give me record " + i + " as JSON");
            if (i % 3 == 0) {
                body.put("temperature", 0);
            } else {
                body.put("temperature", 1.0).put("seed", i);
            }
            ObjectNode format = body.putObject("response_format").put("type", "json_schema");
            format.putObject("json_schema").put("name", "record").put("strict", true).set("schema", schema);
            bodies.add(body);
            schemas.add(schema);
        }
        List<JsonNode> answers = answers(demo, Endpoint.CHAT_COMPLETIONS, bodies);
        for (int i = 0; i < answers.size(); i++) {
            JsonNode choice = answers.get(i).at("/choices/0");
            String content = choice.at("/message/content").asText();
            assertEquals("stop", choice.get("finish_reason").asText(), content);
            assertEquals(List.of(), JsonSchemaOracle.errors(schemas.get(i), content), content);
        }
    }

    @Test
    void jsonModeGivesObjects() throws Exception {
        List<ObjectNode> bodies = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ObjectNode body = Bodies.chat(DemoModel.NAME, "Any JSON " + i).put("temperature", 0.7).put("seed", i)
                    .put("max_tokens", 400);
            body.putObject("response_format").put("type", "json_object");
            bodies.add(body);
        }
        int complete = 0;
        for (JsonNode answer : answers(demo, Endpoint.CHAT_COMPLETIONS, bodies)) {
            JsonNode choice = answer.at("/choices/0");
            if (choice.get("finish_reason").asText().equals("stop")) {
                assertTrue(Bodies.read(choice.at("/message/content").asText()).isObject(), choice.toString());
                complete++;
            }
        }
        assertTrue(complete > 0, "some outputs ended before max_tokens");
    }

    @Test
    void guidedChoicePicksOnlyListedLabelsAndGuidedRegexOnlyMatches() throws Exception {
        Set<String> labels = Set.of("positive", "negative", "neutral");
        List<ObjectNode> bodies = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ObjectNode body = Bodies.completion(DemoModel.NAME, "Review " + i + ": sentiment is", 20)
                    .put("temperature", 1.5).put("seed", i);
            body.putArray("guided_choice").add("positive").add("negative").add("neutral");
            bodies.add(body);
        }
        List<String> seen = new ArrayList<>();
        for (JsonNode answer : answers(demo, Endpoint.COMPLETIONS, bodies)) {
            String text = answer.at("/choices/0/text").asText();
            assertTrue(labels.contains(text), text);
            assertEquals("stop", answer.at("/choices/0/finish_reason").asText());
            seen.add(text);
        }
        assertTrue(seen.stream().distinct().count() > 1, "sampling really chose: " + seen);

        String regex = "[a-z]{3,8}-[0-9]{2}( [A-Z]+)?";
        bodies.clear();
        for (int i = 0; i < 20; i++) {
            bodies.add(Bodies.completion(DemoModel.NAME, "Code " + i, 30).put("temperature", 1.0).put("seed", i)
                    .put("guided_regex", regex));
        }
        for (JsonNode answer : answers(demo, Endpoint.COMPLETIONS, bodies)) {
            String text = answer.at("/choices/0/text").asText();
            assertTrue(Pattern.matches(regex, text), text);
        }
    }

    /**
     * stories260K's free greedy continuations against constraints: a regex they already match gives
     * the same tokens, logprobs aside (its language holds every prefix of a match, so the cut at
     * max_tokens does not matter); a regex they break forces other text.
     */
    @Test
    void greedyOutputUnderAConstraintEqualsTheFreeOutputWhenThatAlreadySatisfiesIt() throws Exception {
        String satisfied = "[A-Za-z ,.'!?\"\\-\\n]*";
        String broken = "[^e]*";
        List<ObjectNode> free = new ArrayList<>();
        List<ObjectNode> same = new ArrayList<>();
        List<ObjectNode> other = new ArrayList<>();
        for (String prompt : List.of("Once upon a time", "Lily and Tom", "The little dog", "One day, a bird")) {
            free.add(Bodies.greedy("stories", prompt, 100));
            same.add(Bodies.greedy("stories", prompt, 100).put("guided_regex", satisfied));
            other.add(Bodies.greedy("stories", prompt, 100).put("guided_regex", broken));
        }
        List<JsonNode> freeAnswers = answers(stories, Endpoint.COMPLETIONS, free);
        List<JsonNode> sameAnswers = answers(stories, Endpoint.COMPLETIONS, same);
        List<JsonNode> otherAnswers = answers(stories, Endpoint.COMPLETIONS, other);
        int checked = 0;
        for (int i = 0; i < free.size(); i++) {
            String text = freeAnswers.get(i).at("/choices/0/text").asText();
            if (!Pattern.matches(satisfied, text)) {
                continue; // the premise does not hold for this prompt
            }
            checked++;
            assertEquals(freeAnswers.get(i).get("choices"), sameAnswers.get(i).get("choices"));
            assertEquals(freeAnswers.get(i).get("usage"), sameAnswers.get(i).get("usage"));
            String forced = otherAnswers.get(i).at("/choices/0/text").asText();
            assertTrue(text.contains("e"), "the free text breaks " + broken);
            assertFalse(forced.contains("e"), forced);
            assertNotEquals(text, forced);
        }
        assertTrue(checked >= 3, "most free outputs satisfied the regex: " + checked);
    }

    @Test
    void anOutputCutByMaxTokensFinishesWithLength() throws Exception {
        // greedy, the demo model first writes the most white space the grammar allows (a line break, 20 tabs)
        ObjectNode body = Bodies.chat(DemoModel.NAME, "Long").put("temperature", 0).put("max_tokens", 45);
        ObjectNode format = body.putObject("response_format").put("type", "json_schema");
        format.putObject("json_schema").put("name", "long").set("schema", Bodies.read(
                "{\"type\": \"object\", \"properties\": {\"text\": {\"type\": \"string\", \"minLength\": 40}},"
                        + " \"required\": [\"text\"]}"));
        JsonNode answer = answers(demo, Endpoint.CHAT_COMPLETIONS, List.of(body)).getFirst();
        assertEquals("length", answer.at("/choices/0/finish_reason").asText());
        assertEquals(45, answer.at("/usage/completion_tokens").asInt());
        String content = answer.at("/choices/0/message/content").asText();
        assertTrue(content.contains("{\"text\""), "cut inside the object: " + content);
    }

    @Test
    void aStopStringEndsAConstrainedOutputWhereItAppears() throws Exception {
        ObjectNode body = Bodies.completion(DemoModel.NAME, "Pick", 20).put("temperature", 1.0).put("seed", 2)
                .put("stop", "zz");
        body.putArray("guided_choice").add("xxyzz").add("xxwzz");
        JsonNode choice = answers(demo, Endpoint.COMPLETIONS, List.of(body)).getFirst().at("/choices/0");
        assertEquals("stop", choice.get("finish_reason").asText());
        assertTrue(Set.of("xxy", "xxw").contains(choice.get("text").asText()), choice.toString());
    }

    @Test
    void toolsForAModelWhoseTemplateWritesNoToolCallFormatAreRefused() throws Exception {
        ObjectNode body = Bodies.chat(DemoModel.NAME, "Weather?");
        body.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "get_weather");
        InferenceResult r = demo.submit(Endpoint.CHAT_COMPLETIONS, Bodies.write(body)).get(60, TimeUnit.SECONDS);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = Bodies.read(r.body()).get("error");
        assertEquals("tools", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("writes tool calls in none of the formats"), r.body());
        body.put("tool_choice", "none");
        assertEquals(200, demo.submit(Endpoint.CHAT_COMPLETIONS, Bodies.write(body.put("max_tokens", 3)))
                .get(60, TimeUnit.SECONDS).statusCode(), "with tool_choice none the tools are not used");
    }

    private static List<JsonNode> answers(LocalEngine engine, Endpoint endpoint, List<ObjectNode> bodies)
            throws Exception {
        List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
        for (ObjectNode b : bodies) {
            futures.add(engine.submit(endpoint, Bodies.write(b)));
        }
        List<JsonNode> out = new ArrayList<>();
        for (CompletableFuture<InferenceResult> f : futures) {
            InferenceResult r = f.get(120, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            out.add(Bodies.read(r.body()));
        }
        return out;
    }
}
