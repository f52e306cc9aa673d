package io.batchllm.engine.tokenizer;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.ModelFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.Map;
import java.util.Set;

/**
 * A model's tokenizer, read from its GGUF metadata and exact to llama.cpp's: the same token ids for
 * the same text and flags, and the same bytes back.
 *
 * <p>Two vocabulary kinds are supported, chosen by {@code tokenizer.ggml.model}:
 * <ul>
 *   <li>{@code llama}: SentencePiece-style BPE by token score, spaces as {@code ▁}, byte fallback
 *       {@code <0xNN>}, and a space prefixed to the text ({@code tokenizer.ggml.add_space_prefix},
 *       default true). Adds BOS by default.</li>
 *   <li>{@code gpt2}: byte-level BPE with {@code tokenizer.ggml.merges} ranks, after splitting the text
 *       with the pre-tokenizer regexes named by {@code tokenizer.ggml.pre} (llama.cpp's table; see
 *       {@link #supportedPreTokenizers()}; a missing key means llama.cpp's "default"). Adds BOS by
 *       default only for the llama3 and tekken pre-tokenizers.</li>
 * </ul>
 * The {@code tokenizer.ggml.add_bos_token}/{@code add_eos_token} keys override those defaults. Other
 * vocabulary kinds (bert/WPM, t5/UGM, rwkv, …) and unknown pre-tokenizers are refused with a
 * {@link ModelFormatException}.
 *
 * <p>Immutable and thread safe; encoding allocates only per call and caches nothing.
 *
 * <p>Known, deliberate differences from llama.cpp, all outside its test vectors: Unicode categories
 * come from the JDK (Unicode 16) instead of llama.cpp's generated tables, so code points assigned in
 * the newest Unicode versions, and unassigned ones, may split differently; when no key names the
 * end-of-turn token and several candidates exist, the first in llama.cpp's candidate list wins
 * (upstream takes hash-map order); equal-length special tokens are matched in id order (upstream's
 * sort is unstable). The end-of-generation text list is that of llama.cpp around build 4748, the
 * build that produced the shared test vectors.
 */
public final class Tokenizer {

    /** The kind of vocabulary, from {@code tokenizer.ggml.model}. */
    public enum Kind {
        /** {@code llama}: SentencePiece-style BPE by scores with byte fallback. */
        SPM,
        /** {@code gpt2}: GPT-2 byte-level BPE with merge ranks and a regex pre-tokenizer. */
        BPE
    }

    /** The text-to-tokens step for one text fragment; SPM and BPE differ only here. */
    interface FragmentEncoder {
        void encode(String text, IntArrayBuilder out);
    }

    /** Everything {@link TokenizerLoader} reads from the metadata. */
    record Parts(Kind kind, String preTokenizer, Vocabulary vocab, FragmentEncoder encoder,
                 SpecialTokenSplitter splitter, boolean addBos, boolean addEos, boolean addSpacePrefix,
                 boolean cleanSpaces, int bos, int eos, int eot, int eom, int unk, int pad, BitSet endOfGeneration) {
    }

    private static final char SPACE_MARK = '\u2581';
    private static final int HIDDEN_WHEN_NOT_SPECIAL = Vocabulary.CONTROL | Vocabulary.UNKNOWN;

    private final Parts parts;
    private final Vocabulary vocab;
    /** What each token decodes to when special tokens are rendered (llama.cpp's token-to-piece cache). */
    private final byte[][] pieces;

    private Tokenizer(Parts parts) {
        this.parts = parts;
        this.vocab = parts.vocab();
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = renderPiece(id);
        }
    }

    /**
     * Reads the tokenizer of a GGUF model (or vocabulary-only) file.
     *
     * @throws ModelFormatException if the tokenizer keys are missing, malformed, or of a kind not supported
     */
    public static Tokenizer fromGguf(GgufFile gguf) {
        return fromMetadata(gguf.metadata(), gguf.path().toString());
    }

    /**
     * Reads a tokenizer from GGUF-style metadata (as {@link GgufFile#metadata()} returns it).
     *
     * @param source names the metadata's origin in error messages, e.g. the file path
     * @throws ModelFormatException if the tokenizer keys are missing, malformed, or of a kind not supported
     */
    public static Tokenizer fromMetadata(Map<String, Object> metadata, String source) {
        return new Tokenizer(new TokenizerLoader(metadata, source).load());
    }

    /** The {@code tokenizer.ggml.pre} values accepted for {@code gpt2} vocabularies. */
    public static Set<String> supportedPreTokenizers() {
        return PreTokenizerTable.supportedNames();
    }

    /**
     * Text to token ids, as llama.cpp's {@code llama_tokenize}.
     *
     * @param addSpecial add BOS/EOS as the model asks ({@link #addsBos()}, {@link #addsEos()})
     * @param parseSpecial recognise control-token texts such as {@code <|eot_id|>} in {@code text} (as in a
     *     rendered chat template); when false they are tokenized as plain text. User-defined tokens are
     *     recognised either way, as upstream does.
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        String input = withoutLoneSurrogates(text);
        IntArrayBuilder out = new IntArrayBuilder(input.length() / 3 + 4);
        if (addSpecial && parts.addBos()) {
            out.add(parts.bos());
        }
        // SPM puts a space before the text and again after every special token (llama.cpp's
        // is_prev_special), so that "<s>Hi" tokenizes "Hi" like a word start.
        boolean prevSpecial = true;
        for (SpecialTokenSplitter.Fragment f : parts.splitter().split(input, parseSpecial)) {
            if (!f.isText()) {
                out.add(f.token());
                prevSpecial = true;
                continue;
            }
            String fragment = input.substring(f.start(), f.end());
            if (parts.kind() == Kind.SPM) {
                String prefixed = parts.addSpacePrefix() && prevSpecial ? " " + fragment : fragment;
                fragment = prefixed.replace(' ', SPACE_MARK);
            }
            parts.encoder().encode(fragment, out);
            prevSpecial = false;
        }
        if (addSpecial && parts.addEos()) {
            out.add(parts.eos());
        }
        return out.toArray();
    }

    /**
     * Token ids back to text, as llama.cpp's {@code llama_detokenize} with {@code remove_special} and
     * {@code unparse_special} false: control and unknown tokens (BOS, EOS, …) render as nothing; for SPM
     * vocabularies the one space that {@code add_space_prefix} put before the text is dropped from the
     * first token; vocabularies with llama.cpp's {@code clean_spaces} have spaces before {@code ?!.,} and
     * some apostrophes removed. Meant for whole texts that start at a sequence start.
     *
     * <p>Generated continuations must not lose their leading space: decode those with
     * {@link #newDecoder()} (which is also streaming-safe), as llama-server builds its output text.
     * Invalid UTF-8 becomes U+FFFD.
     */
    public String decode(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokens.length * 4);
        boolean removeSpace = parts.addSpacePrefix();
        for (int token : tokens) {
            byte[] piece = piece(token, false);
            int skip = removeSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            removeSpace = false;
        }
        byte[] bytes = out.toByteArray();
        if (parts.cleanSpaces()) {
            bytes = SpaceCleaner.clean(bytes);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * A streaming decoder for one generated sequence: pieces are concatenated as they are (no space is
     * removed, control tokens render as nothing) and only complete UTF-8 text is returned.
     */
    public TokenDecoder newDecoder() {
        return new TokenDecoder(this);
    }

    /** The bytes a token stands for, special tokens rendered as their text (e.g. {@code <|eot_id|>}). */
    public byte[] tokenBytes(int token) {
        return piece(token, true).clone();
    }

    /**
     * The bytes a token adds to generated text, as {@link #newDecoder()} concatenates them: control
     * and unknown tokens add nothing (an empty array). Structured outputs match grammars against these.
     */
    public byte[] generatedBytes(int token) {
        return piece(token, false).clone();
    }

    /**
     * A token as text, for logprobs and debugging: {@link #tokenBytes} as UTF-8, where a byte token or a
     * piece that splits a multi-byte character shows as U+FFFD.
     */
    public String tokenText(int token) {
        return new String(piece(token, true), StandardCharsets.UTF_8);
    }

    /** The kind of vocabulary. */
    public Kind kind() {
        return parts.kind();
    }

    /** The pre-tokenizer name for BPE vocabularies ({@code "default"} if the file names none); empty for SPM. */
    public String preTokenizer() {
        return parts.preTokenizer();
    }

    /** Number of tokens in the vocabulary. */
    public int vocabSize() {
        return vocab.size();
    }

    /** The beginning-of-sequence token, or -1 if the vocabulary has none. */
    public int bos() {
        return parts.bos();
    }

    /** The end-of-sequence token, or -1 if the vocabulary has none. */
    public int eos() {
        return parts.eos();
    }

    /**
     * The end-of-turn token ({@code tokenizer.ggml.eot_token_id}, else found by text such as
     * {@code <|eot_id|>} or {@code <|im_end|>}), or -1.
     */
    public int eot() {
        return parts.eot();
    }

    /** The end-of-message token ({@code tokenizer.ggml.eom_token_id} or {@code <|eom_id|>}), or -1. */
    public int eom() {
        return parts.eom();
    }

    /** The unknown token, or -1. */
    public int unk() {
        return parts.unk();
    }

    /** The padding token, or -1. */
    public int pad() {
        return parts.pad();
    }

    /** Whether {@code encode(text, true, …)} starts with {@link #bos()}. */
    public boolean addsBos() {
        return parts.addBos();
    }

    /** Whether {@code encode(text, true, …)} ends with {@link #eos()}. */
    public boolean addsEos() {
        return parts.addEos();
    }

    /**
     * Whether generation stops at this token: EOS, EOT, EOM, and the other end-of-generation tokens
     * llama.cpp recognises ({@code <|im_end|>}, {@code <|end|>}, {@code <end_of_turn>}, FIM pad/repo/sep, …).
     */
    public boolean isEndOfGeneration(int token) {
        return token >= 0 && parts.endOfGeneration().get(token);
    }

    /** Whether a token is a control token (BOS, EOS, chat markers), which {@link #decode} renders as nothing. */
    public boolean isControl(int token) {
        checkToken(token);
        return vocab.has(token, Vocabulary.CONTROL);
    }

    /** The token's text exactly as stored in the vocabulary (e.g. {@code ▁Hello}, {@code ĠHello}, {@code <0x0A>}). */
    public String rawTokenText(int token) {
        checkToken(token);
        return vocab.text(token);
    }

    /** The id of the token whose vocabulary text is exactly {@code text}, or -1. */
    public int tokenId(String text) {
        return vocab.id(text);
    }

    /** The piece as llama.cpp's {@code token_to_piece}: without {@code special}, control/unknown render as nothing. */
    byte[] piece(int token, boolean special) {
        checkToken(token);
        if (!special && vocab.has(token, HIDDEN_WHEN_NOT_SPECIAL)) {
            return new byte[0];
        }
        return pieces[token];
    }

    private void checkToken(int token) {
        if (token < 0 || token >= vocab.size()) {
            throw new IllegalArgumentException("token id " + token + " is out of range: the vocabulary has "
                    + vocab.size() + " tokens (0.." + (vocab.size() - 1) + ")");
        }
    }

    private byte[] renderPiece(int id) {
        String text = vocab.text(id);
        if (vocab.has(id, Vocabulary.UNKNOWN | Vocabulary.CONTROL | Vocabulary.USER_DEFINED)) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (vocab.has(id, Vocabulary.NORMAL)) {
            return parts.kind() == Kind.SPM
                    ? text.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8)
                    : ByteLevel.decode(text);
        }
        if (vocab.has(id, Vocabulary.BYTE)) {
            return new byte[] {(byte) TokenizerLoader.byteOfByteToken(text)};
        }
        return new byte[0]; // unused/undefined tokens render as nothing upstream
    }

    /**
     * Java strings may hold unpaired surrogates, which have no UTF-8 form; llama.cpp turns each invalid
     * input byte into U+FFFD, so we do the same rather than let the encoder write '?'.
     */
    private static String withoutLoneSurrogates(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                StringBuilder sb = new StringBuilder(s.length());
                s.codePoints().forEach(cp -> sb.appendCodePoint(
                        cp <= 0xFFFF && Character.isSurrogate((char) cp) ? 0xFFFD : cp));
                return sb.toString();
            }
        }
        return s;
    }
}
