package io.batchllm.http.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON in and out: request bodies under limits, with every failure a 400 that names the parameter. */
final class Json {
    /** For responses; the core records carry their own Jackson annotations. */
    static final ObjectMapper OUT = new ObjectMapper();

    private final ObjectMapper in;

    Json(int maxDepth, long maxBytes) {
        // The body size is already capped; these bound what one document may make the parser do.
        StreamReadConstraints limits = StreamReadConstraints.builder()
                .maxNestingDepth(maxDepth)
                .maxStringLength((int) Math.min(Integer.MAX_VALUE, maxBytes))
                .maxNumberLength(64)
                .build();
        this.in = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(limits).build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    /** Parses a body that must be one JSON object. */
    ObjectNode object(InputStream body) {
        JsonNode node;
        try {
            node = in.readTree(body);
        } catch (StreamConstraintsException e) {
            throw new InvalidRequestException("body", "invalid_json", "The JSON body is beyond this server's limits: "
                    + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw new InvalidRequestException("body", "invalid_json", "We could not parse the JSON body of your "
                    + "request" + where + ": " + e.getOriginalMessage() + ". Send a JSON object.");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (node == null || !node.isObject()) {
            throw new InvalidRequestException("body", "invalid_json", "The request body must be a JSON object, got "
                    + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()) + ".");
        }
        return (ObjectNode) node;
    }

    /** A required string field. */
    static String requiredString(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw new InvalidRequestException(field, "Missing required parameter: '" + field + "'.");
        }
        return string(v, field);
    }

    /** An optional string field, or null. */
    static String optionalString(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : string(v, field);
    }

    private static String string(JsonNode v, String param) {
        if (!v.isTextual()) {
            throw wrongType(param, "a string", v);
        }
        return v.textValue();
    }

    /** {@code metadata}: null, or an object of string values. */
    static Map<String, String> metadata(ObjectNode o) {
        JsonNode v = o.get("metadata");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType("metadata", "an object of strings", v);
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isTextual()) {
                throw new InvalidRequestException("metadata", "metadata values must be strings; the value of '"
                        + e.getKey() + "' is " + e.getValue().getNodeType().name().toLowerCase() + ".");
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return m;
    }

    /** {@code output_expires_after}: null, or {anchor:"created_at", seconds:int}; returns the seconds. */
    static Long outputExpiresAfter(ObjectNode o) {
        JsonNode v = o.get("output_expires_after");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType("output_expires_after", "an object {anchor, seconds}", v);
        }
        JsonNode anchor = v.get("anchor");
        if (anchor == null || !anchor.isTextual() || !anchor.textValue().equals("created_at")) {
            throw new InvalidRequestException("output_expires_after[anchor]",
                    "output_expires_after.anchor must be 'created_at'.");
        }
        JsonNode seconds = v.get("seconds");
        if (seconds == null || !seconds.isIntegralNumber() || !seconds.canConvertToLong()) {
            throw new InvalidRequestException("output_expires_after[seconds]",
                    "output_expires_after.seconds must be an integer from 3600 to 2592000.");
        }
        return seconds.longValue();
    }

    static InvalidRequestException wrongType(String param, String expected, JsonNode actual) {
        return new InvalidRequestException(param, "Invalid type for '" + param + "': expected " + expected
                + ", but got " + actual.getNodeType().name().toLowerCase() + ".");
    }

    /** {@code {"error":{"message","type","param","code"}}}, every key present (C4). */
    static String errorEnvelope(String message, String type, String param, String code) {
        ObjectNode error = OUT.createObjectNode();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        ObjectNode root = OUT.createObjectNode();
        root.set("error", error);
        return root.toString();
    }
}
