package io.batchllm.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import java.util.List;

/**
 * The independent judge of structured outputs: networknt's JSON Schema validator (draft 2020-12 unless
 * the schema names another, {@code format} asserted), never the engine's grammar code. Thread safe.
 */
public final class JsonSchemaOracle {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    private JsonSchemaOracle() {
    }

    /** The validation errors of JSON text {@code json} against {@code schema}; empty when it validates. */
    public static List<String> errors(JsonNode schema, String json) {
        Schema s = REGISTRY.getSchema(schema);
        return s.validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
    }
}
