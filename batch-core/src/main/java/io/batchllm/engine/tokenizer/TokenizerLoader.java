package io.batchllm.engine.tokenizer;

import io.batchllm.engine.gguf.ModelFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the {@code tokenizer.ggml.*} keys the way llama.cpp's {@code llama_vocab::impl::load} does:
 * per-kind defaults for special ids and flags, file keys overriding them, control attributes forced
 * onto end-of-turn/FIM tokens found by their text, and the end-of-generation set.
 */
final class TokenizerLoader {
    private static final Logger log = LoggerFactory.getLogger(TokenizerLoader.class);

    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String PAD_ID = "tokenizer.ggml.padding_token_id";

    /** Texts by which llama.cpp finds the end-of-turn token when no key names it (first found wins). */
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    /**
     * Texts of tokens that end generation; llama.cpp also makes them control tokens. Granite's
     * {@code <|end_of_text|>} and SmolDocling's {@code <end_of_utterance>} as in current llama.cpp.
     */
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>");
    private static final List<String> FIM_PRE = List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<｜fim▁begin｜>", "<PRE>", "▁<PRE>");
    private static final List<String> FIM_SUF = List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
            "<｜fim▁hole｜>", "<SUF>", "▁<SUF>");
    private static final List<String> FIM_MID = List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>",
            "<｜fim▁end｜>", "<MID>", "▁<MID>");
    private static final List<String> FIM_PAD = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>");
    private static final List<String> FIM_REP = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>");
    private static final List<String> FIM_SEP = List.of("<|file_sep|>");

    private final Map<String, Object> md;
    private final String source;

    TokenizerLoader(Map<String, Object> metadata, String source) {
        this.md = metadata;
        this.source = source;
    }

    Tokenizer.Parts load() {
        String model = string(MODEL);
        if (model == null) {
            throw error("required key '" + MODEL + "' is missing: the file has no tokenizer");
        }
        Tokenizer.Kind kind = switch (model) {
            case "llama" -> Tokenizer.Kind.SPM;
            case "gpt2" -> Tokenizer.Kind.BPE;
            default -> throw error("'" + MODEL + "' = '" + model + "' is not supported: BatchLLM tokenizes only "
                    + "'llama' (SentencePiece BPE) and 'gpt2' (byte-level BPE) vocabularies"
                    + unsupportedHint(model));
        };

        List<String> texts = stringList(TOKENS);
        int n = texts.size();
        String[] tokenTexts = new String[n];
        Map<String, Integer> ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String t = texts.get(i);
            if (t.isEmpty()) {
                t = "[EMPTY_" + i + "]"; // llama.cpp's placeholder, so that the id stays addressable
            }
            Integer previous = ids.putIfAbsent(t, i);
            if (previous != null) {
                throw error("'" + TOKENS + "' lists the token '" + t + "' twice (ids " + previous + " and " + i
                        + "); llama.cpp refuses such a vocabulary too: re-convert the model");
            }
            tokenTexts[i] = t;
        }
        float[] scores = scores(n);
        int[] attrs = attrs(n);

        // Per-kind defaults (llama_vocab::impl::load), then the file's keys.
        PreTokenizerTable.Spec pre = null;
        String preName = "";
        boolean addBos;
        boolean addSpacePrefix;
        boolean cleanSpaces;
        int bos;
        int eos;
        int unk;
        if (kind == Tokenizer.Kind.SPM) {
            addBos = true;
            addSpacePrefix = true;
            cleanSpaces = false;
            bos = 1;
            eos = 2;
            unk = 0;
        } else {
            preName = string(PRE);
            if (preName == null) {
                log.warn("{}: '{}' is missing; using llama.cpp's 'default' pre-tokenizer. Generation quality "
                        + "may be degraded: consider re-converting the model", source, PRE);
                preName = "default";
            }
            String name = preName;
            pre = PreTokenizerTable.lookup(preName).orElseThrow(() -> error("'" + PRE + "' = '" + name
                    + "' is not a supported pre-tokenizer. Supported: "
                    + String.join(", ", PreTokenizerTable.supportedNames())));
            addBos = pre.addBos();
            addSpacePrefix = false;
            cleanSpaces = pre.cleanSpaces();
            bos = pre.bosDisabled() ? Vocabulary.NONE : 11;
            eos = 11;
            unk = Vocabulary.NONE;
        }
        addSpacePrefix = bool(ADD_SPACE_PREFIX, addSpacePrefix);

        bos = specialId(BOS_ID, bos, n);
        eos = specialId(EOS_ID, eos, n);
        int eot = specialId(EOT_ID, Vocabulary.NONE, n);
        int eom = specialId(EOM_ID, Vocabulary.NONE, n);
        unk = specialId(UNK_ID, unk, n);
        int pad = specialId(PAD_ID, Vocabulary.NONE, n);
        addBos = bool(ADD_BOS, addBos);
        boolean addEos = bool(ADD_EOS, false);
        if (addBos && bos == Vocabulary.NONE) {
            throw error("'" + ADD_BOS + "' is true, but '" + BOS_ID + "' is not set");
        }
        if (addEos && eos == Vocabulary.NONE) {
            throw error("'" + ADD_EOS + "' is true, but '" + EOS_ID + "' is not set");
        }

        // Tokens found by text become control tokens, as upstream does for models converted without
        // the right token types; this decides whether their text is parsed only with parseSpecial.
        if (eot == Vocabulary.NONE) {
            eot = findFirst(ids, EOT_TEXTS);
        }
        if (eom == Vocabulary.NONE) {
            eom = findFirst(ids, List.of("<|eom_id|>"));
        }
        BitSet eog = new BitSet(n);
        for (List<String> fim : List.of(FIM_PRE, FIM_SUF, FIM_MID, FIM_PAD, FIM_REP, FIM_SEP)) {
            int id = findFirst(ids, fim);
            if (id != Vocabulary.NONE) {
                attrs[id] |= Vocabulary.CONTROL;
                if (fim != FIM_PRE && fim != FIM_SUF && fim != FIM_MID) {
                    eog.set(id);
                }
            }
        }
        for (int special : new int[] {eot, eom}) {
            if (special != Vocabulary.NONE) {
                attrs[special] |= Vocabulary.CONTROL;
            }
        }
        for (String text : EOG_TEXTS) {
            Integer id = ids.get(text);
            if (id != null) {
                attrs[id] |= Vocabulary.CONTROL;
                eog.set(id);
            }
        }
        for (int special : new int[] {eos, eot, eom}) {
            if (special != Vocabulary.NONE) {
                eog.set(special);
            }
        }
        applyModelSpecificAttributes(ids, attrs);

        Vocabulary vocab = new Vocabulary(tokenTexts, scores, attrs, Map.copyOf(ids));
        Tokenizer.FragmentEncoder encoder;
        if (kind == Tokenizer.Kind.SPM) {
            encoder = new SpmEncoder(vocab)::encode;
        } else {
            BpeMerges merges = new BpeMerges(stringList(MERGES));
            encoder = new BpeEncoder(vocab, merges, new PreTokenizer(pre.regexes()), pre.ignoreMerges())::encode;
        }
        checkByteTokens(vocab);
        return new Tokenizer.Parts(kind, preName, vocab, encoder, new SpecialTokenSplitter(vocab), addBos, addEos,
                addSpacePrefix, cleanSpaces, bos, eos, eot, eom, unk, pad, eog);
    }

    /** The byte a BYTE-type token such as {@code <0x0A>} stands for. */
    static int byteOfByteToken(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return Integer.parseInt(text.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new ModelFormatException("byte token '" + text + "' is not of the form <0xNN>");
    }

    /**
     * llama.cpp derives per-token LSTRIP/RSTRIP from the model name for Phi-3 (its special tokens eat
     * the whitespace after them), so that "&lt;|user|&gt;\n" parses as HF does.
     */
    private void applyModelSpecificAttributes(Map<String, Integer> ids, int[] attrs) {
        Object name = md.get("general.name");
        String lower = name instanceof String s ? s.toLowerCase(Locale.ROOT) : "";
        if (!lower.contains("phi-3") && !lower.contains("phi3")) {
            return;
        }
        for (int id = 0; id < attrs.length; id++) {
            if ((attrs[id] & (Vocabulary.CONTROL | Vocabulary.USER_DEFINED | Vocabulary.UNKNOWN)) != 0) {
                attrs[id] |= Vocabulary.RSTRIP;
            }
        }
        setAttr(ids, attrs, "</s>", true);
        for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) {
            setAttr(ids, attrs, t, false);
        }
    }

    private static void setAttr(Map<String, Integer> ids, int[] attrs, String text, boolean rstrip) {
        Integer id = ids.get(text);
        if (id != null) {
            attrs[id] = rstrip ? attrs[id] | Vocabulary.RSTRIP : attrs[id] & ~Vocabulary.RSTRIP;
        }
    }

    private void checkByteTokens(Vocabulary vocab) {
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.has(id, Vocabulary.BYTE)) {
                try {
                    byteOfByteToken(vocab.text(id));
                } catch (ModelFormatException e) {
                    throw error("'" + TOKEN_TYPE + "' marks token " + id + " as a byte token, but its text '"
                            + vocab.text(id) + "' is not of the form <0xNN>");
                }
            }
        }
    }

    /**
     * The first of these texts (in list order) that is a token. Upstream takes whichever matching token
     * its hash map yields first; list order is deterministic and prefers the specific markers
     * ({@code <|eot_id|>}, {@code <|im_end|>}, {@code <|end|>}) over the generic {@code <|endoftext|>}.
     */
    private static int findFirst(Map<String, Integer> ids, List<String> texts) {
        for (String t : texts) {
            Integer id = ids.get(t);
            if (id != null) {
                return id;
            }
        }
        return Vocabulary.NONE;
    }

    private float[] scores(int n) {
        Object v = md.get(SCORES);
        if (v == null) {
            return new float[n];
        }
        float[] scores;
        if (v instanceof float[] f) {
            scores = f;
        } else if (v instanceof int[] ints) {
            scores = new float[ints.length];
            for (int i = 0; i < ints.length; i++) {
                scores[i] = ints[i];
            }
        } else {
            throw error("'" + SCORES + "' should be an array of f32 or i32 but is " + describe(v));
        }
        if (scores.length < n) {
            throw error("'" + SCORES + "' has " + scores.length + " entries for " + n + " tokens");
        }
        return scores;
    }

    private int[] attrs(int n) {
        Object v = md.get(TOKEN_TYPE);
        int[] attrs = new int[n];
        if (v == null) {
            java.util.Arrays.fill(attrs, Vocabulary.NORMAL);
            return attrs;
        }
        if (!(v instanceof int[] types)) {
            throw error("'" + TOKEN_TYPE + "' should be an array of i32 but is " + describe(v));
        }
        if (types.length < n) {
            throw error("'" + TOKEN_TYPE + "' has " + types.length + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            attrs[i] = Vocabulary.attrOfGgufType(types[i]);
        }
        return attrs;
    }

    /**
     * A special-token id key: absent keeps the default; a value outside the vocabulary is ignored with a
     * warning (llama.cpp does the same, and files in the wild store 0xFFFFFFFF for "none").
     */
    private int specialId(String key, int fallback, int n) {
        int id = fallback >= n ? Vocabulary.NONE : fallback;
        Object v = md.get(key);
        if (v == null) {
            return id;
        }
        if (!(v instanceof Integer) && !(v instanceof Long)) {
            throw error("'" + key + "' should be an integer token id but is " + describe(v));
        }
        long value = ((Number) v).longValue();
        if (value < 0 || value >= n) {
            log.warn("{}: '{}' = {} is outside the vocabulary of {} tokens; using {}", source, key, value, n, id);
            return id;
        }
        return (int) value;
    }

    private boolean bool(String key, boolean fallback) {
        Object v = md.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw error("'" + key + "' should be a boolean but is " + describe(v));
    }

    private String string(String key) {
        Object v = md.get(key);
        if (v == null || v instanceof String) {
            return (String) v;
        }
        throw error("'" + key + "' should be a string but is " + describe(v));
    }

    @SuppressWarnings("unchecked")
    private List<String> stringList(String key) {
        Object v = md.get(key);
        if (v == null) {
            throw error("required key '" + key + "' is missing");
        }
        if (v instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
            return (List<String>) list;
        }
        throw error("'" + key + "' should be an array of strings but is " + describe(v));
    }

    private static String describe(Object v) {
        return v.getClass().isArray() ? v.getClass().getComponentType().getSimpleName() + "[]"
                : v.getClass().getSimpleName();
    }

    private static String unsupportedHint(String model) {
        return switch (model) {
            case "bert" -> " (this is a WordPiece/BERT embedding vocabulary)";
            case "t5" -> " (this is a Unigram/T5 vocabulary)";
            case "rwkv" -> " (this is an RWKV vocabulary)";
            case "no_vocab", "none" -> " (the file has no vocabulary)";
            default -> "";
        };
    }

    private ModelFormatException error(String message) {
        return new ModelFormatException(source + ": " + message);
    }
}
