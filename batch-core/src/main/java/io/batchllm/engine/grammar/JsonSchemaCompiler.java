package io.batchllm.engine.grammar;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compiles a JSON Schema into a {@link Grammar} of the JSON texts that validate against it. What it
 * supports and how each keyword is generated is listed in {@code docs/engine.md} ("Structured
 * outputs"); in short: {@code type} (one or several), {@code enum}, {@code const}, {@code anyOf},
 * {@code oneOf} when its branches cannot overlap, {@code allOf} of one schema, local {@code $ref}s
 * (recursive ones too) into {@code $defs}/{@code definitions} or anywhere in the document; for
 * objects {@code properties} (generated in the schema's order), {@code required},
 * {@code additionalProperties}; for arrays {@code items}, {@code prefixItems} (or the older array
 * form of {@code items} with {@code additionalItems}), {@code minItems}, {@code maxItems}; for strings
 * {@code minLength}, {@code maxLength}, {@code pattern}, {@code format} (date, time, date-time, uuid,
 * email, ipv4, hostname); for numbers {@code minimum}, {@code maximum} and the exclusive bounds
 * (whole-number bounds for {@code number}).
 *
 * <p>Where the schema leaves freedom the grammar takes less, never producing anything invalid: an
 * object gets no properties beyond its {@code properties} unless {@code additionalProperties} allows
 * them, a {@code prefixItems} tuple no further items unless {@code items} allows them, a schema
 * without {@code type} the types its keywords are about. Every other keyword, known or not, is refused
 * with a {@link GrammarException} that names it and where it is, never ignored. Not thread safe: one
 * compiler per schema.
 */
final class JsonSchemaCompiler {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Keywords that change nothing about which values validate. */
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly");
    private static final Set<String> DEFINITIONS = Set.of("$defs", "definitions");
    private static final Set<String> OBJECT = Set.of("properties", "required", "additionalProperties");
    private static final Set<String> ARRAY = Set.of("items", "prefixItems", "additionalItems", "minItems",
            "maxItems", "uniqueItems");
    private static final Set<String> STRING = Set.of("minLength", "maxLength", "pattern", "format");
    private static final Set<String> NUMBER = Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final Set<String> COMBINATIONS = Set.of("anyOf", "oneOf", "allOf");
    private static final Set<String> TYPES = Set.of("null", "boolean", "object", "array", "number", "integer",
            "string");
    /** Known keywords a grammar cannot enforce, with why. */
    private static final Map<String, String> REFUSED = refused();
    private static final List<String> FORMATS = List.of("date", "time", "date-time", "uuid", "email", "ipv4",
            "hostname");

    private static final Expr SEP = Expr.seq(JsonText.WS, Expr.literal(","), JsonText.WS);
    private static final Expr COLON = Expr.seq(JsonText.WS, Expr.literal(":"), JsonText.WS);
    /** Default bound of an integer with one side open: {@value JsonText#MAX_DIGITS} digits. */
    private static final long DIGIT_BOUND = IntegerRanges.pow10(JsonText.MAX_DIGITS) - 1;
    private static final BigDecimal LARGEST_BOUND = BigDecimal.TEN.pow(18);
    /** Members bigger than this are made rules where an object's optional properties repeat them. */
    private static final int SHARE_ABOVE_STATES = 16;

    private final JsonNode root;
    /** The grammar's rules, shared with the other schemas compiled into the same grammar. */
    private final List<Expr> rules;
    private final Map<String, Integer> refRules = new HashMap<>();
    private int anyValueRule = -1;

    /**
     * A compiler of one schema document ({@code $ref}s resolve within it) whose rules go into
     * {@code rules}, which may hold other schemas' rules too.
     */
    JsonSchemaCompiler(JsonNode root, List<Expr> rules) {
        this.root = root;
        this.rules = rules;
    }

    /** The grammar of JSON texts (optional white space around the value) that validate against {@code schema}. */
    static Grammar compile(JsonNode schema) {
        List<Expr> rules = new ArrayList<>();
        rules.add(null);
        Expr value = new JsonSchemaCompiler(schema, rules).value();
        rules.set(0, Expr.seq(JsonText.WS, value, JsonText.WS));
        return new Grammar(rules, "JSON Schema");
    }

    /** The expression of one JSON value that validates against the document's schema (no white space around). */
    Expr value() {
        return schema(root, "#");
    }

    private Expr schema(JsonNode node, String path) {
        if (node.isBoolean()) {
            if (!node.booleanValue()) {
                throw error(path, "is the schema false, which no value satisfies");
            }
            return anyValue();
        }
        if (!node.isObject()) {
            throw error(path, "must be a schema (a JSON object or a boolean), got " + node.getNodeType()
                    .toString().toLowerCase(java.util.Locale.ROOT));
        }
        for (String keyword : (Iterable<String>) node::fieldNames) {
            checkKeyword(keyword, node, path);
        }
        Set<String> validation = validationKeywords(node);
        if (node.has("$ref")) {
            only(validation, Set.of("$ref"), path, "$ref");
            return new Expr.Ref(refRule(node.get("$ref"), path));
        }
        if (node.has("enum") || node.has("const")) {
            only(validation, Set.of("enum", "const", "type"), path, node.has("enum") ? "enum" : "const");
            return enumeration(node, path);
        }
        for (String combination : COMBINATIONS) {
            if (node.has(combination)) {
                only(validation, Set.of(combination), path, combination);
                return combination(combination, node.get(combination), path + "/" + combination);
            }
        }
        List<Expr> options = new ArrayList<>();
        for (String type : types(node, path)) {
            options.add(typed(type, node, path));
        }
        return options.isEmpty() ? anyValue() : Expr.alt(options);
    }

    private static void checkKeyword(String keyword, JsonNode node, String path) {
        String why = REFUSED.get(keyword);
        if (keyword.equals("uniqueItems") && node.get(keyword).isBoolean() && !node.get(keyword).booleanValue()) {
            return;
        }
        if (why != null) {
            throw error(path, "uses the keyword '" + keyword + "', which is not supported: " + why);
        }
        if (!ANNOTATIONS.contains(keyword) && !DEFINITIONS.contains(keyword) && !validation(keyword)) {
            throw error(path, "uses the unknown keyword '" + keyword + "'; supported keywords are "
                    + String.join(", ", supportedKeywords()));
        }
    }

    private static boolean validation(String keyword) {
        return OBJECT.contains(keyword) || ARRAY.contains(keyword) || STRING.contains(keyword)
                || NUMBER.contains(keyword) || COMBINATIONS.contains(keyword)
                || Set.of("type", "enum", "const", "$ref").contains(keyword);
    }

    private static Set<String> validationKeywords(JsonNode node) {
        Set<String> out = new LinkedHashSet<>();
        for (String keyword : (Iterable<String>) node::fieldNames) {
            if (validation(keyword)) {
                out.add(keyword);
            }
        }
        return out;
    }

    /** Refuses {@code present} keywords other than {@code allowed} beside {@code keyword}. */
    private static void only(Set<String> present, Set<String> allowed, String path, String keyword) {
        for (String k : present) {
            if (!allowed.contains(k)) {
                throw error(path, "combines '" + keyword + "' with '" + k + "', which is not supported; put '" + k
                        + "' inside the " + keyword + (keyword.equals("$ref") ? " target" : " branches") + " instead");
            }
        }
    }

    // --- references

    private int refRule(JsonNode ref, String path) {
        if (!ref.isTextual()) {
            throw error(path + "/$ref", "must be a string");
        }
        String text = ref.textValue();
        if (!text.startsWith("#")) {
            throw error(path + "/$ref", "is \"" + text + "\": only references within the schema (starting with #) are"
                    + " supported");
        }
        String pointer = percentDecoded(text.substring(1), path);
        Integer rule = refRules.get(pointer);
        if (rule != null) {
            return rule;
        }
        JsonNode target;
        try {
            target = root.at(JsonPointer.compile(pointer));
        } catch (IllegalArgumentException e) {
            throw error(path + "/$ref", "is \"" + text + "\", which is not a JSON pointer: " + e.getMessage());
        }
        if (target.isMissingNode()) {
            throw error(path + "/$ref", "is \"" + text + "\", which points to nothing in the schema");
        }
        int index = rules.size();
        rules.add(null);
        refRules.put(pointer, index);
        rules.set(index, schema(target, "#" + pointer));
        return index;
    }

    private static String percentDecoded(String s, String path) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw error(path + "/$ref", "has a malformed %-escape");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    // --- enum, const, combinations

    private Expr enumeration(JsonNode node, String path) {
        List<JsonNode> values = new ArrayList<>();
        if (node.has("const")) {
            values.add(node.get("const"));
        }
        if (node.has("enum")) {
            JsonNode e = node.get("enum");
            if (!e.isArray() || e.isEmpty()) {
                throw error(path + "/enum", "must be a non-empty array");
            }
            if (values.isEmpty()) {
                e.forEach(values::add);
            } else if (!contains(e, values.getFirst())) {
                throw error(path, "has a const that is not in its enum, so no value satisfies it");
            }
        }
        Set<String> types = node.has("type") ? declaredTypes(node, path) : TYPES;
        List<Expr> options = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (JsonNode v : values) {
            if (types.stream().anyMatch(t -> hasType(v, t)) && seen.add(json(v))) {
                options.add(Expr.literal(json(v)));
            }
        }
        if (options.isEmpty()) {
            throw error(path, "allows no value: none of its enum/const values has its type " + types);
        }
        return Expr.alt(options);
    }

    private static boolean contains(JsonNode array, JsonNode value) {
        for (JsonNode v : array) {
            if (v.equals(value)) {
                return true;
            }
        }
        return false;
    }

    private Expr combination(String kind, JsonNode branches, String path) {
        if (!branches.isArray() || branches.isEmpty()) {
            throw error(path, "must be a non-empty array of schemas");
        }
        if (kind.equals("allOf")) {
            if (branches.size() != 1) {
                throw error(path, "has " + branches.size() + " schemas; allOf is supported with one schema only"
                        + " (merge them into one)");
            }
            return schema(branches.get(0), path + "/0");
        }
        if (kind.equals("oneOf")) {
            checkDisjoint(branches, path);
        }
        List<Expr> options = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            options.add(schema(branches.get(i), path + "/" + i));
        }
        return Expr.alt(options);
    }

    /**
     * oneOf needs exactly one branch to match, which a grammar can only promise when no value can
     * match two branches: here, when the branches' possible types (or, for enum/const branches, their
     * values) do not overlap.
     */
    private void checkDisjoint(JsonNode branches, String path) {
        List<Set<String>> kinds = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            Set<String> k = kinds(branches.get(i), 0);
            if (k == null) {
                throw error(path + "/" + i, "is a oneOf branch whose values could also match another branch; oneOf"
                        + " is supported only when each branch has its own type or its own const/enum values; use"
                        + " anyOf otherwise");
            }
            for (int j = 0; j < kinds.size(); j++) {
                if (overlap(k, kinds.get(j))) {
                    throw error(path, "has branches " + j + " and " + i + " that can match the same value, which"
                            + " oneOf forbids and a grammar cannot rule out; give them different types or use anyOf");
                }
            }
            kinds.add(k);
        }
    }

    /**
     * What values a branch can have, coarsely: a set of type names, or of {@code "=<json>"} values for
     * enum/const branches; null when it cannot be told.
     */
    private Set<String> kinds(JsonNode node, int depth) {
        if (!node.isObject() || depth > 8) {
            return null;
        }
        if (node.has("$ref") && node.get("$ref").isTextual() && node.get("$ref").textValue().startsWith("#")) {
            try {
                JsonNode target = root.at(JsonPointer.compile(node.get("$ref").textValue().substring(1)));
                return target.isMissingNode() ? null : kinds(target, depth + 1);
            } catch (IllegalArgumentException e) {
                return null; // the branch's own compilation reports the bad pointer
            }
        }
        if (node.has("enum") || node.has("const")) {
            Set<String> values = new HashSet<>();
            (node.has("const") ? List.of(node.get("const")) : iterable(node.get("enum")))
                    .forEach(v -> values.add("=" + json(v)));
            return values;
        }
        if (node.has("type")) {
            JsonNode t = node.get("type");
            Set<String> types = new HashSet<>();
            (t.isArray() ? iterable(t) : List.of(t)).forEach(x -> types.add(x.asText()));
            return types;
        }
        return null;
    }

    private static List<JsonNode> iterable(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private static boolean overlap(Set<String> a, Set<String> b) {
        for (String x : a) {
            for (String y : b) {
                if (x.equals(y) || numeric(x) && numeric(y) || x.startsWith("=") != y.startsWith("=")
                        && valueOfType(x.startsWith("=") ? x : y, x.startsWith("=") ? y : x)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean numeric(String kind) {
        return kind.equals("number") || kind.equals("integer");
    }

    private static boolean valueOfType(String value, String type) {
        try {
            return hasType(MAPPER.readTree(value.substring(1)), type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a value this class wrote does not parse: " + value, e);
        }
    }

    // --- types

    /** The types to generate: those declared, or those the schema's keywords are about (none: any value). */
    private Set<String> types(JsonNode node, String path) {
        if (node.has("type")) {
            return declaredTypes(node, path);
        }
        Set<String> inferred = new LinkedHashSet<>();
        for (String keyword : (Iterable<String>) node::fieldNames) {
            if (OBJECT.contains(keyword)) {
                inferred.add("object");
            } else if (ARRAY.contains(keyword) && !keyword.equals("uniqueItems")) {
                inferred.add("array");
            } else if (STRING.contains(keyword)) {
                inferred.add("string");
            } else if (NUMBER.contains(keyword)) {
                inferred.add("number");
            }
        }
        return inferred;
    }

    private static Set<String> declaredTypes(JsonNode node, String path) {
        JsonNode t = node.get("type");
        Set<String> types = new LinkedHashSet<>();
        for (JsonNode x : t.isArray() ? iterable(t) : List.of(t)) {
            if (!x.isTextual() || !TYPES.contains(x.textValue())) {
                throw error(path + "/type", "has " + x + "; types are " + String.join(", ", new TreeSet<>(TYPES)));
            }
            types.add(x.textValue());
        }
        if (types.isEmpty()) {
            throw error(path + "/type", "is an empty array, which no value satisfies");
        }
        return types;
    }

    private static boolean hasType(JsonNode v, String type) {
        return switch (type) {
            case "null" -> v.isNull();
            case "boolean" -> v.isBoolean();
            case "string" -> v.isTextual();
            case "array" -> v.isArray();
            case "object" -> v.isObject();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber() || v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0;
            default -> false;
        };
    }

    private Expr typed(String type, JsonNode node, String path) {
        return switch (type) {
            case "null" -> Expr.literal("null");
            case "boolean" -> Expr.alt(Expr.literal("true"), Expr.literal("false"));
            case "string" -> string(node, path);
            case "integer" -> integer(node, path);
            case "number" -> number(node, path);
            case "object" -> object(node, path);
            case "array" -> array(node, path);
            default -> throw new IllegalStateException(type);
        };
    }

    // --- strings

    private Expr string(JsonNode node, String path) {
        int min = count(node, "minLength", path, 0);
        int max = count(node, "maxLength", path, Expr.UNBOUNDED);
        if (max != Expr.UNBOUNDED && max < min) {
            throw error(path, "has maxLength " + max + " below minLength " + min);
        }
        boolean lengths = node.has("minLength") || node.has("maxLength");
        String pattern = text(node, "pattern", path);
        String format = text(node, "format", path);
        if (pattern != null && format != null) {
            throw error(path, "has both pattern and format, which is not supported; keep one");
        }
        if ((pattern != null || format != null) && lengths) {
            throw error(path, "combines " + (pattern != null ? "pattern" : "format") + " with minLength/maxLength,"
                    + " which is not supported; write the length into the pattern (e.g. ^[a-z]{2,8}$)");
        }
        try {
            if (pattern != null) {
                return Expr.seq(JsonText.QUOTE, Regex.search(pattern, JsonText::stringChars), JsonText.QUOTE);
            }
            if (format != null) {
                return Expr.seq(JsonText.QUOTE, Regex.fullMatch(formatRegex(format, path), JsonText::stringChars),
                        JsonText.QUOTE);
            }
        } catch (GrammarException e) {
            throw error(path + "/" + (pattern != null ? "pattern" : "format"), e.getMessage());
        }
        return JsonText.string(min, max);
    }

    private static String formatRegex(String format, String path) {
        String label = "[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20}){0,2}";
        return switch (format) {
            case "date" -> DATE;
            case "time" -> TIME;
            case "date-time" -> DATE + "T" + TIME;
            case "uuid" -> "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
            // validators check the top-level domain against IANA's list: a few real ones only
            case "email" -> "[A-Za-z0-9]{1,16}([._+-][A-Za-z0-9]{1,16}){0,2}@" + label + "(\\." + label + "){0,2}"
                    + "\\.(com|org|net|edu|gov|io|dev|info|app|co|uk|de)";
            case "ipv4" -> OCTET + "(\\." + OCTET + "){3}";
            case "hostname" -> label + "(\\." + label + "){0,3}";
            default -> throw error(path + "/format", "is \"" + format + "\", which is not supported; supported formats"
                    + " are " + String.join(", ", FORMATS));
        };
    }

    /** RFC 3339 full-date; February stops at the 28th, so that no year can make a date invalid. */
    private static final String DATE = "[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|"
            + "[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))";
    /**
     * RFC 3339 full-time with an offset, no leap second; offsets below 18 hours, the most
     * {@code java.time} (and so Java validators) accept.
     */
    private static final String TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-](0[0-9]|"
            + "1[0-7]):[0-5][0-9])";
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

    // --- numbers

    private Expr integer(JsonNode node, String path) {
        Bounds b = bounds(node, path);
        if (b.none()) {
            return JsonText.INTEGER;
        }
        long lo = b.lower == null ? -DIGIT_BOUND
                : b.lower.setScale(0, RoundingMode.CEILING).longValueExact() + (b.lowerExclusive && isWhole(b.lower) ? 1 : 0);
        long hi = b.upper == null ? DIGIT_BOUND
                : b.upper.setScale(0, RoundingMode.FLOOR).longValueExact() - (b.upperExclusive && isWhole(b.upper) ? 1 : 0);
        if (lo > hi) {
            throw error(path, "allows no integer between its bounds");
        }
        return IntegerRanges.between(lo, hi);
    }

    /**
     * A number between whole-number bounds: the integers in range (with an optional zero fraction),
     * and the values strictly between two integers of the range, written {@code k.f} with a fraction
     * that is not all zeros ({@code -m.f} below zero).
     */
    private Expr number(JsonNode node, String path) {
        Bounds b = bounds(node, path);
        if (b.none()) {
            return JsonText.NUMBER;
        }
        for (BigDecimal bound : new BigDecimal[] {b.lower, b.upper}) {
            if (bound != null && !isWhole(bound)) {
                throw error(path, "has the bound " + bound.toPlainString() + "; a number's bounds must be whole numbers"
                        + " (integer bounds may be any number)");
            }
        }
        long lower = b.lower == null ? -DIGIT_BOUND : b.lower.longValueExact();
        long upper = b.upper == null ? DIGIT_BOUND : b.upper.longValueExact();
        List<Expr> options = new ArrayList<>();
        long kLo = lower + (b.lowerExclusive ? 1 : 0);
        long kHi = upper - (b.upperExclusive ? 1 : 0);
        if (kLo <= kHi) {
            options.add(Expr.seq(IntegerRanges.between(kLo, kHi),
                    Expr.optional(Expr.seq(Expr.literal("."), new Expr.Repeat(Expr.literal("0"), 1, JsonText.MAX_DIGITS)))));
        }
        Expr fraction = Expr.seq(Expr.literal("."), JsonText.NONZERO_FRACTION);
        if (Math.max(lower, 0) <= upper - 1) {
            options.add(Expr.seq(IntegerRanges.between(Math.max(lower, 0), upper - 1), fraction));
        }
        if (-Math.min(upper, 0) <= -lower - 1) {
            options.add(Expr.seq(Expr.literal("-"), IntegerRanges.between(-Math.min(upper, 0), -lower - 1), fraction));
        }
        if (options.isEmpty()) {
            throw error(path, "allows no number between its bounds");
        }
        return Expr.alt(options);
    }

    private static boolean isWhole(BigDecimal d) {
        return d.signum() == 0 || d.stripTrailingZeros().scale() <= 0;
    }

    /** The tighter of minimum/exclusiveMinimum and of maximum/exclusiveMaximum. */
    private record Bounds(BigDecimal lower, boolean lowerExclusive, BigDecimal upper, boolean upperExclusive) {
        boolean none() {
            return lower == null && upper == null;
        }
    }

    private static Bounds bounds(JsonNode node, String path) {
        BigDecimal min = decimal(node, "minimum", path);
        BigDecimal exMin = decimal(node, "exclusiveMinimum", path);
        BigDecimal max = decimal(node, "maximum", path);
        BigDecimal exMax = decimal(node, "exclusiveMaximum", path);
        boolean lowerExclusive = exMin != null && (min == null || exMin.compareTo(min) >= 0);
        boolean upperExclusive = exMax != null && (max == null || exMax.compareTo(max) <= 0);
        return new Bounds(lowerExclusive ? exMin : min, lowerExclusive, upperExclusive ? exMax : max, upperExclusive);
    }

    private static BigDecimal decimal(JsonNode node, String keyword, String path) {
        JsonNode v = node.get(keyword);
        if (v == null) {
            return null;
        }
        if (v.isBoolean()) {
            throw error(path + "/" + keyword, "is a boolean (draft 4's form), which is not supported; give the bound"
                    + " itself as exclusiveMinimum/exclusiveMaximum");
        }
        if (!v.isNumber()) {
            throw error(path + "/" + keyword, "must be a number");
        }
        BigDecimal d = v.decimalValue();
        if (d.abs().compareTo(LARGEST_BOUND) >= 0) {
            throw error(path + "/" + keyword, "is " + d.toPlainString() + "; bounds must be within ±10^18");
        }
        return d;
    }

    // --- objects

    private Expr object(JsonNode node, String path) {
        Map<String, JsonNode> properties = new LinkedHashMap<>();
        JsonNode props = node.get("properties");
        if (props != null) {
            if (!props.isObject()) {
                throw error(path + "/properties", "must be an object");
            }
            props.properties().forEach(e -> properties.put(e.getKey(), e.getValue()));
        }
        Set<String> required = new LinkedHashSet<>();
        JsonNode req = node.get("required");
        if (req != null) {
            if (!req.isArray()) {
                throw error(path + "/required", "must be an array of property names");
            }
            for (JsonNode r : req) {
                if (!r.isTextual()) {
                    throw error(path + "/required", "must hold strings, got " + r);
                }
                required.add(r.textValue());
            }
        }
        JsonNode additional = node.get("additionalProperties");
        boolean extras = additional != null && !(additional.isBoolean() && !additional.booleanValue());
        for (String name : required) {
            if (!properties.containsKey(name)) {
                if (additional != null && !extras) {
                    throw error(path, "requires the property '" + name + "', which is not in properties while"
                            + " additionalProperties is false, so no object satisfies it");
                }
                properties.put(name, additional == null ? BooleanNode.TRUE : additional);
            }
        }
        List<Expr> members = new ArrayList<>();
        List<Boolean> optional = new ArrayList<>();
        for (Map.Entry<String, JsonNode> p : properties.entrySet()) {
            String pointer = path + "/properties/" + p.getKey().replace("~", "~0").replace("/", "~1");
            members.add(Expr.seq(Expr.literal(json(MAPPER.getNodeFactory().textNode(p.getKey()))), COLON,
                    schema(p.getValue(), pointer)));
            optional.add(!required.contains(p.getKey()));
        }
        Expr extra = null;
        if (extras) {
            Expr value = schema(additional, path + "/additionalProperties");
            extra = share(Expr.seq(JsonText.stringExcept(new ArrayList<>(properties.keySet())), COLON, value), 0);
        }
        if (optional.contains(true) || extra != null) {
            members.replaceAll(m -> share(m, SHARE_ABOVE_STATES));
        }
        Expr body = members(members, optional, extra);
        return Expr.seq(Expr.literal("{"), JsonText.WS, body, JsonText.WS, Expr.literal("}"));
    }

    /**
     * The members in order, the optional ones skippable, then any extra ones: {@code first(i)} is the
     * text from member i when none was written yet (no comma before it), {@code rest(i)} when one was.
     */
    private static Expr members(List<Expr> members, List<Boolean> optional, Expr extra) {
        int n = members.size();
        Expr[] rest = new Expr[n + 1];
        rest[n] = extra == null ? Expr.EMPTY : Expr.star(Expr.seq(SEP, extra));
        for (int i = n - 1; i >= 0; i--) {
            Expr item = Expr.seq(SEP, members.get(i));
            rest[i] = Expr.seq(optional.get(i) ? Expr.optional(item) : item, rest[i + 1]);
        }
        Expr first = extra == null ? Expr.EMPTY : Expr.optional(Expr.seq(extra, rest[n]));
        for (int i = n - 1; i >= 0; i--) {
            Expr take = Expr.seq(members.get(i), rest[i + 1]);
            first = optional.get(i) ? Expr.alt(take, first) : take;
        }
        return first;
    }

    /** {@code e} as a rule of its own, called wherever it is used, if it is bigger than {@code above} states. */
    private Expr share(Expr e, int above) {
        if (Nfa.estimateStates(e) <= above) {
            return e;
        }
        rules.add(e);
        return new Expr.Ref(rules.size() - 1);
    }

    // --- arrays

    private Expr array(JsonNode node, String path) {
        List<Expr> prefix = new ArrayList<>();
        JsonNode tail;
        String tailPath;
        JsonNode items = node.get("items");
        JsonNode prefixItems = node.get("prefixItems");
        if (prefixItems != null || items != null && items.isArray()) {
            JsonNode tuple = prefixItems != null ? prefixItems : items;
            String tuplePath = path + (prefixItems != null ? "/prefixItems" : "/items");
            if (!tuple.isArray()) {
                throw error(tuplePath, "must be an array of schemas");
            }
            for (int i = 0; i < tuple.size(); i++) {
                prefix.add(schema(tuple.get(i), tuplePath + "/" + i));
            }
            tail = prefixItems != null ? items : node.get("additionalItems");
            tailPath = path + (prefixItems != null ? "/items" : "/additionalItems");
        } else {
            if (node.has("additionalItems")) {
                throw error(path, "has additionalItems without an array of items; use items");
            }
            // without a tuple, absent items means items of any kind
            tail = items == null ? BooleanNode.TRUE : items;
            tailPath = path + "/items";
        }
        int min = count(node, "minItems", path, 0);
        int max = count(node, "maxItems", path, Expr.UNBOUNDED);
        boolean tailAllowed = tail != null && !(tail.isBoolean() && !tail.booleanValue());
        if (!tailAllowed) {
            max = max == Expr.UNBOUNDED ? prefix.size() : Math.min(max, prefix.size());
        }
        if (max != Expr.UNBOUNDED && min > max) {
            throw error(path, "requires at least " + min + " items but allows at most " + max);
        }
        while (prefix.size() > (max == Expr.UNBOUNDED ? Integer.MAX_VALUE : max)) {
            prefix.removeLast();
        }
        Expr item = tailAllowed && (max == Expr.UNBOUNDED || max > prefix.size())
                ? share(schema(tail, tailPath), SHARE_ABOVE_STATES) : null;
        Expr body = elements(prefix, item, min, max);
        return Expr.seq(Expr.literal("["), JsonText.WS, body, JsonText.WS, Expr.literal("]"));
    }

    /** Elements {@code prefix[0..k)} then {@code item}s, {@code min} to {@code max} of them in all. */
    private static Expr elements(List<Expr> prefix, Expr item, int min, int max) {
        int k = prefix.size();
        // after[j]: the elements from position j on (j >= 1), each with its comma
        Expr after = item == null ? Expr.EMPTY
                : new Expr.Repeat(Expr.seq(SEP, item), Math.max(0, min - Math.max(k, 1)),
                        max == Expr.UNBOUNDED ? Expr.UNBOUNDED : max - Math.max(k, 1));
        for (int j = k - 1; j >= 1; j--) {
            Expr here = Expr.seq(SEP, prefix.get(j), after);
            after = j >= min ? Expr.optional(here) : here;
        }
        Expr first;
        if (k > 0) {
            first = Expr.seq(prefix.getFirst(), after);
        } else if (item != null && max != 0) {
            first = Expr.seq(item, after);
        } else {
            return Expr.EMPTY;
        }
        return min == 0 ? Expr.optional(first) : first;
    }

    // --- any value

    /** Any JSON value, as a recursive rule made once per grammar. */
    private Expr anyValue() {
        if (anyValueRule < 0) {
            anyValueRule = rules.size();
            rules.add(null);
            Expr value = new Expr.Ref(anyValueRule);
            Expr member = Expr.seq(JsonText.string(0, Expr.UNBOUNDED), COLON, value);
            Expr object = Expr.seq(Expr.literal("{"), JsonText.WS,
                    Expr.optional(Expr.seq(member, Expr.star(Expr.seq(SEP, member)))), JsonText.WS, Expr.literal("}"));
            Expr array = Expr.seq(Expr.literal("["), JsonText.WS,
                    Expr.optional(Expr.seq(value, Expr.star(Expr.seq(SEP, value)))), JsonText.WS, Expr.literal("]"));
            rules.set(anyValueRule, Expr.alt(object, array, JsonText.string(0, Expr.UNBOUNDED), JsonText.NUMBER,
                    Expr.literal("true"), Expr.literal("false"), Expr.literal("null")));
        }
        return new Expr.Ref(anyValueRule);
    }

    // --- reading keywords

    private static int count(JsonNode node, String keyword, String path, int absent) {
        JsonNode v = node.get(keyword);
        if (v == null) {
            return absent;
        }
        if (!v.canConvertToInt() || !(v.isIntegralNumber() || v.isNumber() && isWhole(v.decimalValue()))
                || v.intValue() < 0) {
            throw error(path + "/" + keyword, "must be a non-negative integer, got " + v);
        }
        return v.intValue();
    }

    private static String text(JsonNode node, String keyword, String path) {
        JsonNode v = node.get(keyword);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw error(path + "/" + keyword, "must be a string");
        }
        return v.textValue();
    }

    private static String json(JsonNode value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree did not serialize", e);
        }
    }

    private static GrammarException error(String path, String problem) {
        return new GrammarException("the schema at " + path + " " + problem);
    }

    private static List<String> supportedKeywords() {
        TreeSet<String> all = new TreeSet<>();
        all.addAll(OBJECT);
        all.addAll(ARRAY);
        all.addAll(STRING);
        all.addAll(NUMBER);
        all.addAll(COMBINATIONS);
        all.addAll(List.of("type", "enum", "const", "$ref"));
        all.addAll(DEFINITIONS);
        all.addAll(ANNOTATIONS);
        return new ArrayList<>(all);
    }

    private static Map<String, String> refused() {
        Map<String, String> m = new HashMap<>();
        String condition = "a grammar cannot generate values by a condition or a negation";
        for (String k : List.of("not", "if", "then", "else")) {
            m.put(k, condition);
        }
        String names = "a grammar generates the properties listed in properties (and additionalProperties)";
        for (String k : List.of("patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
                "dependencies", "unevaluatedProperties", "minProperties", "maxProperties")) {
            m.put(k, names);
        }
        String arrays = "the grammar cannot count or compare an array's items this way";
        for (String k : List.of("contains", "minContains", "maxContains", "unevaluatedItems")) {
            m.put(k, arrays);
        }
        m.put("uniqueItems", "the grammar cannot make the items distinct (uniqueItems: false is accepted)");
        m.put("multipleOf", "use an enum of the allowed values, or integer bounds");
        for (String k : List.of("$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$anchor",
                "$vocabulary")) {
            m.put(k, "use $ref with a JSON pointer such as #/$defs/name");
        }
        for (String k : List.of("contentEncoding", "contentMediaType", "contentSchema")) {
            m.put(k, "the grammar cannot check encoded content");
        }
        m.put("nullable", "it is OpenAPI's, not JSON Schema's; write \"type\": [\"...\", \"null\"]");
        return Map.copyOf(m);
    }
}
