/**
 * OpenAI request and response bodies for the local engine: {@link io.batchllm.engine.openai.RequestParser}
 * turns a batch line's body into a {@link io.batchllm.engine.openai.GenerationRequest} or a
 * {@link io.batchllm.engine.openai.RequestException} (a 400), and
 * {@link io.batchllm.engine.openai.ResponseBuilder} turns generated choices into the 200 body.
 */
package io.batchllm.engine.openai;
