/**
 * Tool calls: the formats models write them in ({@link io.batchllm.engine.tools.ToolFormat}, found from
 * the chat template), parsed out of a finished output into OpenAI's {@code tool_calls}, and the
 * syntax a grammar needs to force them when {@code tool_choice} requires a call.
 */
package io.batchllm.engine.tools;
