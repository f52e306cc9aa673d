package io.batchllm.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.grammar.Grammars;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model's matchers stay bounded in number and in mask memory, and cursors handed out keep working. */
class GrammarMatchersTest {
    @TempDir
    Path dir;

    private Tokenizer tokenizer() {
        try (GgufFile f = GgufFile.open(DemoModel.ensure(dir))) {
            return Tokenizer.fromGguf(f);
        }
    }

    @Test
    void theLeastRecentlyUsedMatchersGoPastTheCountOrTheMaskBudget() {
        Tokenizer tokenizer = tokenizer();
        GrammarMatchers byCount = new GrammarMatchers(tokenizer, tokenizer.vocabSize());
        for (int i = 0; i < GrammarMatchers.MAX_MATCHERS + 6; i++) {
            byCount.newCursor(Grammars.choice(List.of("label" + i)));
        }
        assertEquals(GrammarMatchers.MAX_MATCHERS, byCount.size());

        // a budget of one mask: every new grammar whose cursor has computed a mask pushes out the others
        GrammarMatchers byBytes = new GrammarMatchers(tokenizer, tokenizer.vocabSize(), 1);
        long[] words = byBytes.maskBuffer();
        var first = byBytes.newCursor(Grammars.regex("[a-z]+"));
        assertTrue(first.writeMask(words) > 0);
        var second = byBytes.newCursor(Grammars.regex("[0-9]+"));
        assertEquals(1, byBytes.size(), "the first matcher's masks were over the budget");
        assertTrue(first.writeMask(words) > 0 && second.writeMask(words) > 0, "its cursor still works");
    }
}
