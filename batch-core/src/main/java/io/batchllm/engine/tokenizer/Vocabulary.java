package io.batchllm.engine.tokenizer;

import java.util.Map;

/**
 * The token table shared by both tokenizer kinds: each token's text (as stored in the GGUF file),
 * score, and attribute bits, plus the text-to-id index. Immutable once built; thread safe.
 */
final class Vocabulary {
    /** llama.cpp's {@code LLAMA_TOKEN_NULL}: "no such token". */
    static final int NONE = -1;

    // Attribute bits, as llama.cpp's llama_token_attr.
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;
    static final int LSTRIP = 1 << 7;
    static final int RSTRIP = 1 << 8;

    private final String[] texts;
    private final float[] scores;
    private final int[] attrs;
    private final Map<String, Integer> ids;

    Vocabulary(String[] texts, float[] scores, int[] attrs, Map<String, Integer> ids) {
        this.texts = texts;
        this.scores = scores;
        this.attrs = attrs;
        this.ids = ids;
    }

    /** Attribute bits for a GGUF {@code token_type} value (1 normal … 6 byte), as llama.cpp maps them. */
    static int attrOfGgufType(int type) {
        return switch (type) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> UNDEFINED;
        };
    }

    int size() {
        return texts.length;
    }

    String text(int id) {
        return texts[id];
    }

    float score(int id) {
        return scores[id];
    }

    int attrs(int id) {
        return attrs[id];
    }

    boolean has(int id, int attrBits) {
        return (attrs[id] & attrBits) != 0;
    }

    /** The id whose text is exactly {@code text}, or {@link #NONE}. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? NONE : id;
    }
}
