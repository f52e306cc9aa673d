package io.batchllm.engine;

import io.batchllm.engine.chat.ChatTemplate;
import io.batchllm.engine.chat.ChatTemplateException;
import io.batchllm.engine.openai.GenerationRequest;
import io.batchllm.engine.openai.Prompt;
import io.batchllm.engine.openai.RequestException;
import io.batchllm.engine.tokenizer.Tokenizer;
import java.util.Map;

/**
 * Turns a request's prompt into the token ids the model reads, the way llama-server does, and
 * refuses prompts that cannot be served: chat without a usable template, an empty prompt, a prompt
 * (plus the requested completion) longer than the context. Thread safe (the tokenizer and template
 * are).
 */
final class PromptEncoder {
    private final String modelName;
    private final Tokenizer tokenizer;
    /** Null when chat requests are refused with {@link #noTemplate}. */
    private final ChatTemplate template;
    private final ChatTemplateException noTemplate;
    private final int contextLength;
    private final String bosText;
    private final String eosText;

    /**
     * @param template the model's chat template, or null
     * @param noTemplate the error for chat requests when {@code template} is null
     */
    PromptEncoder(String modelName, Tokenizer tokenizer, ChatTemplate template, ChatTemplateException noTemplate,
            int contextLength) {
        this.modelName = modelName;
        this.tokenizer = tokenizer;
        this.template = template;
        this.noTemplate = noTemplate;
        this.contextLength = contextLength;
        this.bosText = tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : "";
        this.eosText = tokenizer.eos() >= 0 ? tokenizer.tokenText(tokenizer.eos()) : "";
    }

    /**
     * The prompt's token ids.
     *
     * @throws RequestException for a prompt that cannot be served (a 400 for the line)
     */
    int[] encode(GenerationRequest request) {
        request.checkVocabulary(tokenizer.vocabSize());
        String param = request.prompt() instanceof Prompt.Chat ? "messages" : "prompt";
        int[] tokens = switch (request.prompt()) {
            case Prompt.Chat chat -> tokenizer.encode(render(chat, request), true, true);
            // a completions prompt is user text: special-token texts in it stay plain text
            case Prompt.Text text -> tokenizer.encode(text.text(), true, false);
            case Prompt.Tokens ids -> ids.ids();
        };
        if (tokens.length == 0) {
            throw new RequestException(param, "invalid_value", "the " + param + " is empty after tokenization and model "
                    + modelName + " adds no BOS token, so there is nothing to continue; send at least one token");
        }
        Integer maxTokens = request.sampling().maxTokens();
        // prompt + completion must fit the context; with no max_tokens at least one token must fit
        long needed = (long) tokens.length + (maxTokens == null ? 1 : maxTokens);
        if (needed > contextLength) {
            throw RequestException.contextLengthExceeded(param, contextLength, tokens.length, maxTokens);
        }
        return tokens;
    }

    private String render(Prompt.Chat chat, GenerationRequest request) {
        if (template == null) {
            throw new RequestException(null, "no_chat_template", noTemplate.getMessage());
        }
        // the functions, as the template's tools variable (transformers' apply_chat_template(tools=...))
        Map<String, Object> variables = request.tools() == null ? Map.of()
                : Map.of("tools", request.tools().templateTools());
        try {
            return template.render(chat.messages(), true, bosText, eosText, variables);
        } catch (ChatTemplateException e) {
            String code = e.reason() == ChatTemplateException.Reason.REJECTED_BY_TEMPLATE
                    ? "rejected_by_chat_template" : "chat_template_error";
            throw new RequestException("messages", code, "model " + modelName + "'s chat template cannot render these "
                    + "messages: " + e.getMessage());
        }
    }
}
