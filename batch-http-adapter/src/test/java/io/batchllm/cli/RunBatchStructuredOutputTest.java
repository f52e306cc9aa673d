package io.batchllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.testing.JsonSchemaOracle;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * 1,000 chat lines with assorted JSON Schemas (objects, arrays, enums, bounded numbers, formats,
 * patterns, unions, recursion) through {@code run-batch} on the random-weight demo model: every
 * output parses and validates against its line's schema, as networknt's validator (not the engine's
 * grammar code) judges it.
 */
class RunBatchStructuredOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LINES = 1000;

    @TempDir
    Path dir;

    /** Schema templates; %1$d varies bounds and names per line, so many distinct schemas are compiled. */
    private static final List<String> TEMPLATES = List.of(
            """
            {"type": "object", "properties": {"name": {"type": "string", "maxLength": %2$d},
             "age": {"type": "integer", "minimum": %1$d, "maximum": %3$d}, "vip": {"type": "boolean"}},
             "required": ["name", "age", "vip"], "additionalProperties": false}""",
            """
            {"type": "object", "properties": {"label": {"enum": ["spam%1$d", "ham", "unsure"]},
             "score": {"type": "number", "minimum": 0, "maximum": %2$d}},
             "required": ["label", "score"], "additionalProperties": false}""",
            """
            {"type": "array", "items": {"type": "object", "properties": {
             "sku": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{%2$d}$"},
             "qty": {"type": "integer", "exclusiveMinimum": 0, "maximum": %3$d}},
             "required": ["sku", "qty"], "additionalProperties": false}, "minItems": 1, "maxItems": 3}""",
            """
            {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"},
             "day": {"type": "string", "format": "date"}, "id": {"type": "string", "format": "uuid"},
             "note": {"type": ["string", "null"], "maxLength": %2$d}}, "required": ["when", "id"],
             "additionalProperties": false}""",
            """
            {"type": "object", "properties": {"address": {"type": "object", "properties": {
             "city": {"type": "string", "maxLength": 8}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
             "required": ["city", "zip"], "additionalProperties": false}, "tags": {"type": "array",
             "items": {"enum": ["a", "b", "c%1$d"]}, "maxItems": %2$d}}, "required": ["address"],
             "additionalProperties": false}""",
            """
            {"type": "array", "prefixItems": [{"type": "integer", "minimum": -%3$d, "maximum": %3$d},
             {"type": "string", "maxLength": %2$d}, {"const": "end%1$d"}], "items": false}""",
            """
            {"anyOf": [{"type": "integer", "minimum": 0, "maximum": %3$d}, {"type": "string", "maxLength": %2$d},
             {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
             "additionalProperties": false}]}""",
            """
            {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer", "minimum": 0,
             "maximum": %3$d}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 1}},
             "required": ["v"], "additionalProperties": false}}, "$ref": "#/$defs/node"}""",
            """
            {"type": "object", "properties": {"kind": {"oneOf": [{"const": "x%1$d"}, {"const": "y"}]},
             "value": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 9}, {"type": "null"}]},
             "email": {"type": "string", "format": "email"}}, "required": ["kind", "value"],
             "additionalProperties": false}""",
            """
            {"type": "object", "properties": {"matrix": {"type": "array", "items": {"type": "array",
             "items": {"type": "number", "exclusiveMinimum": -1, "exclusiveMaximum": 1}, "minItems": 1,
             "maxItems": %2$d}, "maxItems": 3}, "flag": {"type": "boolean"}, "none": {"type": "null"}},
             "required": ["matrix", "none"], "additionalProperties": false}""");

    private static JsonNode schema(int line) throws Exception {
        String template = TEMPLATES.get(line % TEMPLATES.size());
        int variant = line / TEMPLATES.size();
        return JSON.readTree(String.format(template, variant % 7, 2 + variant % 5, 10 + variant % 90));
    }

    @Test
    void aThousandLinesWithAssortedSchemasGiveAThousandOutputsThatParseAndValidate() throws Exception {
        Path input = dir.resolve("structured.jsonl");
        Map<String, JsonNode> schemas = new HashMap<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < LINES; i++) {
            JsonNode schema = schema(i);
            ObjectNode body = JSON.createObjectNode().put("model", "demo");
            body.putArray("messages").addObject().put("role", "user").put("content", "Record " + i + ", as JSON");
            // greedy on every seventh line, but never on the recursive schema: a random model's argmax may
            // nest forever (sampling stops it soon)
            if (i % 7 == 0 && !schema.has("$defs")) {
                body.put("temperature", 0);
            } else {
                body.put("temperature", 0.8).put("seed", i);
            }
            ObjectNode format = body.putObject("response_format").put("type", "json_schema");
            format.putObject("json_schema").put("name", "record_" + i % TEMPLATES.size()).put("strict", true)
                    .set("schema", schema);
            ObjectNode line = JSON.createObjectNode().put("custom_id", "line-" + i).put("method", "POST")
                    .put("url", "/v1/chat/completions");
            line.set("body", body);
            lines.add(line.toString());
            schemas.put("line-" + i, schema);
        }
        Files.write(input, lines);
        Path output = dir.resolve("out.jsonl");
        StringWriter err = new StringWriter();
        CommandLine cl = BatchLlmCommand.commandLine(CommandLine.defaultFactory());
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("run-batch", "--input", input.toString(), "--output", output.toString(),
                "--data-dir", dir.resolve("data").toString());
        assertEquals(0, code, err.toString());

        int validated = 0;
        for (String l : Files.readAllLines(output)) {
            if (l.isBlank()) {
                continue;
            }
            JsonNode n = JSON.readTree(l);
            String id = n.get("custom_id").asText();
            assertEquals(200, n.at("/response/status_code").asInt(), l);
            JsonNode choice = n.at("/response/body/choices/0");
            String content = choice.at("/message/content").asText();
            assertEquals("stop", choice.get("finish_reason").asText(), id + ": " + content);
            JSON.readTree(content); // parses, or throws
            assertEquals(List.of(), JsonSchemaOracle.errors(schemas.get(id), content), id + ": " + content);
            validated++;
        }
        assertEquals(LINES, validated);
        assertTrue(schemas.values().stream().distinct().count() > 100, "many distinct schemas");
    }
}
