package io.batchllm.engine.tokenizer;

import java.util.Arrays;

/**
 * llama.cpp's {@code clean_spaces} post-processing of detokenized text (HF's
 * {@code clean_up_tokenization_spaces}), byte for byte: three passes that drop the space before
 * {@code ? ! . ,}, around a lone {@code '}, and before the contractions {@code 's 'm 're 've}.
 */
final class SpaceCleaner {
    private SpaceCleaner() {
    }

    static byte[] clean(byte[] text) {
        byte[] t = text.clone();
        int total = t.length;

        // pass 1: " ?", " !", " .", " ,"
        int n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            t[total++] = x;
        }

        // pass 2: " ' " loses both spaces
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
                total--;
                t[++i] = 0; // upstream writes a NUL over the next space and skips it
            }
            t[total++] = x;
        }

        // pass 3: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it)
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            t[total++] = x;
        }
        return Arrays.copyOf(t, total);
    }
}
