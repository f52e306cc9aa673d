/**
 * Structured outputs: constraints compiled into grammars and matched token by token. A JSON Schema,
 * a regex or a list of choices becomes a {@link io.batchllm.engine.grammar.Grammar} once
 * ({@link io.batchllm.engine.grammar.Grammars}, cached per distinct constraint); per model, a
 * {@link io.batchllm.engine.grammar.GrammarMatcher} walks the vocabulary's
 * {@link io.batchllm.engine.grammar.VocabularyTrie} to compute the mask of tokens each grammar state
 * allows, once per state, and a {@link io.batchllm.engine.grammar.GrammarCursor} follows one choice's
 * tokens. The engine sends the masks to the device with each sampling entry of a step.
 */
package io.batchllm.engine.grammar;
