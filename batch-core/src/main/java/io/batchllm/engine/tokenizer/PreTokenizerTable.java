package io.batchllm.engine.tokenizer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * llama.cpp's table of byte-level BPE pre-tokenizers, keyed by {@code tokenizer.ggml.pre}: the regexes
 * that cut text into words before BPE, and the per-type flags that go with them. Copied from
 * {@code llm_tokenizer_bpe} and {@code llama_vocab::impl::load} in llama.cpp's {@code llama-vocab.cpp}
 * (the regex strings are kept character for character, so they can be compared with upstream; see
 * {@link RegexTranslator} for how they are run in Java).
 *
 * <p>Only pre-tokenizers that are purely regex-driven are listed. Types that need a hand-written
 * splitter or regex features std::regex and Java treat differently (kimi-k2, afmoe, superbpe's
 * zero-width splits, tiny_aya's {@code \d}/{@code \b}, chameleon's image tokens) are refused.
 */
final class PreTokenizerTable {

    /**
     * One pre-tokenizer type.
     *
     * @param regexes applied in order, each splitting every fragment the previous ones produced
     * @param cleanSpaces llama.cpp's {@code clean_spaces}: decoding removes spaces before {@code ?!.,} etc.
     * @param ignoreMerges a word that is already a token is emitted whole, without BPE
     * @param addBos the model type's default for {@code add_bos_token}
     * @param bosDisabled the type has no BOS token unless the file names one
     */
    record Spec(String type, List<String> regexes, boolean cleanSpaces, boolean ignoreMerges, boolean addBos,
                boolean bosDisabled) {
    }

    // --- regexes, as in llama-vocab.cpp ---

    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The CJK ranges used by the DeepSeek pre-tokenizers ({@code [一-龥ࠀ-一가-퟿]+} upstream). */
    private static final String DEEPSEEK_CJK = "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

    /**
     * deepseek-llm's letter class, written with escapes instead of upstream's literal characters. Six
     * upstream characters have canonical decompositions (U+1F7D, U+1FD3, U+1FDB, U+1FBE, U+2126, U+212A)
     * and silently turn into other code points if the source is ever NFC-normalised, which would
     * invert three of the ranges; escapes keep them exact.
     */
    private static final String DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}"
            + "\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"
            + "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
            + "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
            + "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
            + "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
            + "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
            + "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
            + "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
            + "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
            + "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
            + "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
            + "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
            + "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
            + "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
            + "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+";

    /** Upstream: {@code \s?[!-/:-~！-／：-～‘-‟　-。]+}. */
    private static final String DEEPSEEK_LLM_PUNCT =
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+";

    /** Upstream: {@code  ?[^(\s|.,!?…。，、।۔،)]+}. */
    private static final String PORO =
            " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+";

    private static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?";

    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTRACTIONS
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final List<String> DEFAULT_REGEXES =
            List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
    private static final List<String> GPT2_REGEXES = List.of(GPT2);
    private static final List<String> LLAMA3_REGEXES = List.of(LLAMA3);
    private static final List<String> QWEN2_REGEXES = List.of(QWEN2);
    private static final List<String> STARCODER_REGEXES = List.of("\\p{N}", GPT2);
    private static final List<String> PORO_REGEXES = List.of(PORO);

    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        add("default", DEFAULT_REGEXES, true, false, false, false);
        for (String name : List.of("llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral")) {
            add(name, "llama3", LLAMA3_REGEXES, true, true, true, false);
        }
        for (String name : List.of("dbrx", "smaug-bpe")) {
            add(name, LLAMA3_REGEXES, true, false, false, false);
        }
        add("deepseek-llm", List.of("[\r\n]", DEEPSEEK_LLM_LETTERS, DEEPSEEK_LLM_PUNCT, "\\s+$", DEEPSEEK_CJK,
                "\\p{N}+"), false, false, false, false);
        add("deepseek-coder", List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_CJK, "\\p{N}"),
                false, false, false, false);
        add("deepseek-v3", List.of("\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
                "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
                        + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
                false, false, false, false);
        add("falcon", List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), true, false, false, false);
        for (String name : List.of("gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
                "mpt", "olmo", "jais")) {
            add(name, GPT2_REGEXES, true, false, false, false);
        }
        add("trillion", GPT2_REGEXES, false, false, false, false);
        for (String name : List.of("starcoder", "refact", "codeshell", "exaone", "minerva-7b")) {
            add(name, STARCODER_REGEXES, true, false, false, false);
        }
        for (String name : List.of("command-r", "smollm")) {
            add(name, STARCODER_REGEXES, false, false, false, false);
        }
        for (String name : List.of("qwen2", "deepseek-r1-qwen")) {
            add(name, QWEN2_REGEXES, false, false, false, false);
        }
        for (String name : List.of("megrez", "stablelm2")) {
            add(name, QWEN2_REGEXES, true, false, false, false);
        }
        add("poro-chat", PORO_REGEXES, false, false, false, false);
        for (String name : List.of("bloom", "gpt3-finnish")) {
            add(name, PORO_REGEXES, true, false, false, false);
        }
        for (String name : List.of("chatglm-bpe", "glm4")) {
            add(name, LLAMA3_REGEXES, true, false, false, true);
        }
        add("viking", List.of(PORO, "\\p{N}"), false, false, false, false);
        add("tekken", List.of(TEKKEN), false, true, true, false);
        for (String name : List.of("gpt-4o", "llama4")) {
            add(name, List.of(GPT4O), false, false, false, false);
        }
    }

    private PreTokenizerTable() {
    }

    private static void add(String name, List<String> regexes, boolean cleanSpaces, boolean ignoreMerges,
                            boolean addBos, boolean bosDisabled) {
        add(name, name, regexes, cleanSpaces, ignoreMerges, addBos, bosDisabled);
    }

    private static void add(String name, String type, List<String> regexes, boolean cleanSpaces,
                            boolean ignoreMerges, boolean addBos, boolean bosDisabled) {
        SPECS.put(name, new Spec(type, regexes, cleanSpaces, ignoreMerges, addBos, bosDisabled));
    }

    /** The spec for a {@code tokenizer.ggml.pre} value, if we support it. */
    static Optional<Spec> lookup(String pre) {
        return Optional.ofNullable(SPECS.get(pre));
    }

    /** Every supported {@code tokenizer.ggml.pre} value, in table order. */
    static Set<String> supportedNames() {
        return Collections.unmodifiableSet(SPECS.keySet());
    }
}
