package io.batchllm.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.testing.JsonSchemaOracle;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Every text a schema's grammar generates parses and validates, as networknt's validator judges it
 * (the oracle; never the grammar code), across the supported keywords; texts that break the schema
 * are refused; unsupported keywords are refused by name.
 */
class JsonSchemaGrammarTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> schemas() {
        return Stream.of(
                """
                {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
                 "age": {"type": "integer"}, "member": {"type": "boolean"}}, "required": ["name", "age", "member"],
                 "additionalProperties": false}""",
                """
                {"type": "object", "properties": {"a": {"type": "string", "enum": ["x", "y\\"z", "é"]},
                 "b": {"type": "number"}, "c": {"type": "null"}, "d": {"type": "integer", "minimum": -3, "maximum": 7},
                 "e": {"type": "string", "minLength": 2, "maxLength": 4}}, "required": ["c"]}""",
                """
                {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer", "minimum": 100,
                 "maximum": 120}, "tags": {"type": "array", "items": {"type": "string", "maxLength": 3},
                 "minItems": 1, "maxItems": 3}}, "required": ["id", "tags"], "additionalProperties": false},
                 "minItems": 2, "maxItems": 4}""",
                """
                {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
                 "free": {"type": "string", "pattern": "^(ab+c|[xy]{2})$"}, "d": {"type": "string", "format": "date"},
                 "t": {"type": "string", "format": "time"}, "dt": {"type": "string", "format": "date-time"},
                 "u": {"type": "string", "format": "uuid"}, "m": {"type": "string", "format": "email"},
                 "ip": {"type": "string", "format": "ipv4"}, "h": {"type": "string", "format": "hostname"}},
                 "required": ["code", "free", "d", "t", "dt", "u", "m", "ip", "h"]}""",
                """
                {"type": "object", "properties": {"i": {"type": "integer", "exclusiveMinimum": 5, "exclusiveMaximum": 9},
                 "n": {"type": "number", "minimum": 0, "maximum": 1}, "x": {"type": "number", "exclusiveMinimum": -5,
                 "exclusiveMaximum": 5}, "y": {"type": "integer", "minimum": -12000, "maximum": -10},
                 "z": {"type": "number", "minimum": -2, "exclusiveMaximum": 0}}, "required": ["i", "n", "x", "y", "z"]}""",
                """
                {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer"},
                 {"type": "object", "properties": {"k": {"const": 3}}, "required": ["k"]}]}""",
                """
                {"type": "object", "properties": {"v": {"oneOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
                 "w": {"type": ["boolean", "integer"]}, "label": {"oneOf": [{"const": "a"}, {"const": "b"}]}},
                 "required": ["v", "w", "label"], "additionalProperties": false}""",
                """
                {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer", "minimum": 0,
                 "maximum": 9}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
                 "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"}""",
                """
                {"type": "object", "properties": {"a": {"type": "integer"}},
                 "additionalProperties": {"type": "string", "maxLength": 2}, "required": ["a"]}""",
                """
                {"type": "array", "prefixItems": [{"type": "string", "maxLength": 4}, {"type": "integer"}],
                 "items": {"type": "boolean"}, "maxItems": 4}""",
                """
                {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
                 "items": [{"type": "integer"}, {"enum": [1.5, "two", null, true]}], "additionalItems": false,
                 "minItems": 1}""",
                """
                {"type": "object", "properties": {"anything": {}, "more": true}, "required": ["anything"]}""",
                """
                {"properties": {"inferred": {"maxLength": 3}, "list": {"maxItems": 2, "items": {"minimum": 1,
                 "maximum": 2}}}, "required": ["inferred", "list"], "additionalProperties": false}""");
    }

    @ParameterizedTest
    @MethodSource("schemas")
    void everyTextTheGrammarGeneratesValidatesAgainstTheSchema(String schemaText) throws Exception {
        JsonNode schema = JSON.readTree(schemaText);
        Grammar grammar = Grammars.jsonSchema(schema);
        List<String> texts = GrammarTesting.samples(grammar, schemaText.hashCode(), 150, 6000, 0.5);
        for (String text : texts) {
            JSON.readTree(text); // parses, or throws
            assertEquals(List.of(), JsonSchemaOracle.errors(schema, text), "generated: " + text);
        }
        assertTrue(texts.stream().distinct().count() > 20, "the walks really differ");
    }

    @Test
    void anyJsonObjectModeGeneratesObjectsOnly() throws Exception {
        Grammar grammar = Grammars.jsonObject();
        for (String text : GrammarTesting.samples(grammar, 5, 200, 6000, 0.5)) {
            assertTrue(JSON.readTree(text).isObject(), text);
        }
        assertTrue(GrammarTesting.accepts(grammar, " {\"a\": [1, {\"b\": null}], \"c\": \"d\\u00e9\"}\n"));
        assertFalse(GrammarTesting.accepts(grammar, "[1]"));
        assertFalse(GrammarTesting.accepts(grammar, "{\"a\": 1,}"));
    }

    @Test
    void textsThatBreakTheSchemaAreRefusedAndValidOnesInSchemaOrderAreAccepted() throws Exception {
        Grammar g = Grammars.jsonSchema(JSON.readTree("""
                {"type": "object", "properties": {"name": {"type": "string", "maxLength": 5},
                 "age": {"type": "integer", "minimum": 0, "maximum": 150}, "nick": {"type": "string"}},
                 "required": ["name", "age"], "additionalProperties": false}"""));
        assertTrue(GrammarTesting.accepts(g, "{\"name\": \"Ann\", \"age\": 30}"));
        assertTrue(GrammarTesting.accepts(g, "{\n  \"name\":\"Ann\",\n  \"age\":0,\n  \"nick\":\"A\\\"n\"\n}"));
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Ann\"}"), "age is required");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Annabel\", \"age\": 3}"), "name is too long");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Ann\", \"age\": 151}"), "age is too high");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Ann\", \"age\": -1}"), "age is too low");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Ann\", \"age\": 3.5}"), "age is an integer");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Ann\", \"age\": 3, \"x\": 1}"), "no other properties");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": 7, \"age\": 3}"), "name is a string");
        assertFalse(GrammarTesting.accepts(g, "{\"name\": \"Ann\", \"age\": 30} x"), "nothing after the value");
        assertTrue(GrammarTesting.viablePrefix(g, "{\"name\": \"An"));
        assertFalse(GrammarTesting.viablePrefix(g, "{\"nam\": "));
    }

    /**
     * What a model that already writes valid JSON writes must pass the mask unchanged (so greedy
     * output equals the free one): documents in the schema's property order, printed compact and
     * pretty by Jackson (not by the grammar code), are accepted.
     */
    @Test
    void validDocumentsPrintedCompactOrPrettyAreAccepted() throws Exception {
        JsonNode schema = JSON.readTree("""
                {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1},
                 "name": {"type": "string", "maxLength": 40}, "price": {"type": "number", "minimum": 0},
                 "tags": {"type": "array", "items": {"type": "string"}},
                 "dims": {"type": "object", "properties": {"w": {"type": "number"}, "h": {"type": "number"}},
                  "required": ["w"]}, "stock": {"type": ["integer", "null"]}, "when": {"type": "string",
                  "format": "date-time"}}, "required": ["id", "name", "tags"], "additionalProperties": false}""");
        Grammar g = Grammars.jsonSchema(schema);
        List<String> documents = List.of(
                "{\"id\": 7, \"name\": \"Gr\\u00fcn \\\"Tee\\\" \\n\", \"price\": 12.5, \"tags\": [],"
                        + " \"dims\": {\"w\": 1e3, \"h\": -0.25}, \"stock\": null, \"when\": \"2024-05-17T08:30:00Z\"}",
                "{\"id\": 1, \"name\": \"\", \"tags\": [\"a\", \"b b\", \"\\u2603 ☃\"], \"dims\": {\"w\": 0}}",
                "{\"id\": 123456789, \"name\": \"x\", \"price\": 0, \"tags\": [\"\"], \"stock\": 40}");
        for (String text : documents) {
            JsonNode doc = JSON.readTree(text);
            assertEquals(List.of(), JsonSchemaOracle.errors(schema, text), text);
            String compact = JSON.writeValueAsString(doc);
            String pretty = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc);
            assertTrue(GrammarTesting.accepts(g, text), text);
            assertTrue(GrammarTesting.accepts(g, compact), compact);
            assertTrue(GrammarTesting.accepts(g, pretty), pretty);
            assertTrue(GrammarTesting.accepts(g, " " + pretty.replace("\n", "\r\n") + "\n"), "CR LF and a final line break");
        }
    }

    @Test
    void aPatternWithoutAnchorsMatchesAnywhereInTheStringAndAnchorsBindTheirAlternativeOnly() throws Exception {
        Grammar g = Grammars.jsonSchema(JSON.readTree("{\"type\": \"string\", \"pattern\": \"ab+c\"}"));
        assertTrue(GrammarTesting.accepts(g, "\"abc\""));
        assertTrue(GrammarTesting.accepts(g, "\"zz\\\"abbbc é\""));
        assertFalse(GrammarTesting.accepts(g, "\"ac\""));
        Grammar h = Grammars.jsonSchema(JSON.readTree("{\"type\": \"string\", \"pattern\": \"^a|b$\"}"));
        assertTrue(GrammarTesting.accepts(h, "\"ax\""));
        assertTrue(GrammarTesting.accepts(h, "\"xb\""));
        assertFalse(GrammarTesting.accepts(h, "\"xa\""));
        assertFalse(GrammarTesting.accepts(h, "\"bx\""));
    }

    @Test
    void additionalPropertiesNeverRepeatAListedName() throws Exception {
        Grammar g = Grammars.jsonSchema(JSON.readTree("""
                {"type": "object", "properties": {"ab": {"type": "integer"}},
                 "additionalProperties": {"type": "string"}}"""));
        assertTrue(GrammarTesting.accepts(g, "{\"ab\": 1, \"a\": \"x\", \"abc\": \"y\", \"b\": \"z\"}"));
        assertTrue(GrammarTesting.accepts(g, "{\"\": \"x\"}"));
        assertFalse(GrammarTesting.accepts(g, "{\"ab\": \"x\"}"), "ab must be an integer, so it is no extra");
        assertFalse(GrammarTesting.accepts(g, "{\"ab\": 1, \"ab\": \"x\"}"));
    }

    @Test
    void unsupportedKeywordsAreRefusedNamingTheKeywordAndWhereItIs() {
        assertRefused("{\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"uniqueItems\": true}",
                "the schema at # uses the keyword 'uniqueItems', which is not supported");
        assertRefused("{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\", \"multipleOf\": 5}}}",
                "the schema at #/properties/n uses the keyword 'multipleOf'");
        assertRefused("{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"string\", \"nullable\": true}}}",
                "'nullable'");
        assertRefused("{\"type\": \"string\", \"minLenght\": 3}", "the schema at # uses the unknown keyword 'minLenght'");
        assertRefused("{\"type\": \"string\", \"format\": \"uri\"}", "is \"uri\", which is not supported");
        assertRefused("{\"type\": \"string\", \"pattern\": \"(?=a)b\"}", "lookaround");
        assertRefused("{\"type\": \"string\", \"pattern\": \"(a)\\\\1\"}", "backreference");
        assertRefused("{\"not\": {\"type\": \"string\"}}", "'not'");
        assertRefused("{\"oneOf\": [{\"type\": \"integer\"}, {\"type\": \"number\"}]}", "can match the same value");
        assertRefused("{\"$ref\": \"https://example.com/s.json\"}", "only references within the schema");
        assertRefused("{\"$ref\": \"#/$defs/missing\"}", "points to nothing");
        assertRefused("{\"$defs\": {\"a\": {\"anyOf\": [{\"$ref\": \"#/$defs/a\"}, {\"type\": \"null\"}]}},"
                + " \"$ref\": \"#/$defs/a\"}", "refers to itself");
        assertRefused("{\"type\": \"number\", \"minimum\": 0.5}", "must be whole numbers");
        assertRefused("{\"type\": \"integer\", \"minimum\": 3, \"maximum\": 2}", "allows no integer");
        assertRefused("{\"type\": \"string\", \"pattern\": \"a\", \"maxLength\": 3}", "combines pattern with");
        assertRefused("false", "which no value satisfies");
    }

    private static void assertRefused(String schema, String expected) {
        GrammarException e = assertThrows(GrammarException.class, () -> Grammars.jsonSchema(JSON.readTree(schema)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
