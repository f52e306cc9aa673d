package io.batchllm.engine.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.internal.Suggestions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which top-level body fields each endpoint knows, so that nothing is silently ignored: OpenAI answers
 * 400 for an unrecognized argument, and so does this engine, naming the field (a typo such as
 * {@code max_token} would otherwise run to the end of the context). The fields are those of OpenAI's
 * {@code CreateChatCompletionRequest} and {@code CreateCompletionRequest} schemas, plus the sampling
 * extensions and guided-decoding fields vLLM users send that this engine honours. Known fields the engine cannot honour are
 * refused where they are read ({@link RequestParser}); vLLM extensions it does not implement are
 * refused here, as such. Stateless.
 */
final class RequestFields {
    /** vLLM's sampling extensions that the engine honours, on both endpoints (see docs/engine.md). */
    static final Set<String> EXTENSIONS = Set.of("top_k", "min_p", "repetition_penalty", "min_tokens", "ignore_eos",
            "stop_token_ids", "skip_special_tokens");

    /** OpenAI's chat completion fields. */
    private static final Set<String> OPENAI_CHAT = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "n", "stop", "seed", "presence_penalty", "frequency_penalty", "logit_bias",
            "logprobs", "top_logprobs", "stream", "stream_options", "tools", "functions", "tool_choice",
            "function_call", "parallel_tool_calls", "audio", "modalities", "prediction", "response_format", "user",
            "metadata", "store", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
            "safety_identifier", "service_tier", "reasoning_effort", "verbosity", "web_search_options", "moderation");

    /**
     * OpenAI's (legacy) completion fields, and {@code max_completion_tokens}, which this engine has
     * always taken on both endpoints.
     */
    private static final Set<String> OPENAI_COMPLETIONS = Set.of("model", "prompt", "best_of", "echo",
            "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "max_completion_tokens", "n",
            "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user");

    /** vLLM extensions the engine does not implement: refused as such rather than as unknown. */
    private static final Set<String> UNSUPPORTED_VLLM = Set.of("use_beam_search", "length_penalty",
            "include_stop_str_in_output", "spaces_between_special_tokens", "prompt_logprobs", "truncate_prompt_tokens",
            "allowed_token_ids", "bad_words", "logits_processors", "add_generation_prompt", "continue_final_message",
            "add_special_tokens", "documents", "chat_template", "chat_template_kwargs", "mm_processor_kwargs",
            "guided_grammar", "guided_decoding_backend",
            "guided_whitespace_pattern", "structured_outputs", "priority", "request_id", "return_tokens_as_token_ids",
            "cache_salt", "vllm_xargs");

    private RequestFields() {
    }

    /** Refuses the first field of a chat body that the endpoint does not know. */
    static void checkChat(ObjectNode body) {
        check(body, OPENAI_CHAT, "/v1/chat/completions");
    }

    /** Refuses the first field of a completions body that the endpoint does not know. */
    static void checkCompletion(ObjectNode body) {
        check(body, OPENAI_COMPLETIONS, "/v1/completions");
    }

    private static void check(ObjectNode body, Set<String> openAi, String endpoint) {
        for (String name : (Iterable<String>) body::fieldNames) {
            if (openAi.contains(name) || EXTENSIONS.contains(name) || OutputConstraints.GUIDED.contains(name)) {
                continue;
            }
            if (UNSUPPORTED_VLLM.contains(name)) {
                throw new RequestException(name, "unsupported_parameter", name + " (a vLLM extension) is not "
                        + "supported by this engine; remove it. Its sampling extensions are "
                        + String.join(", ", new TreeSet<>(EXTENSIONS)) + ", and it takes guided_json, guided_choice and"
                        + " guided_regex");
            }
            List<String> known = new ArrayList<>(new TreeSet<>(openAi));
            TreeSet<String> extensions = new TreeSet<>(EXTENSIONS);
            extensions.addAll(OutputConstraints.GUIDED);
            known.addAll(extensions);
            String closest = Suggestions.closest(name, known);
            throw new RequestException(name, "unknown_parameter", "Unrecognized request argument supplied: " + name
                    + (closest == null ? "" : " (did you mean " + closest + "?)") + ". " + endpoint
                    + " takes " + String.join(", ", known));
        }
    }
}
