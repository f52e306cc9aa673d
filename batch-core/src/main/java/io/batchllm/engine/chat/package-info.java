/**
 * Chat templates: turning a chat conversation into the prompt text a model was trained on.
 *
 * <p>{@link io.batchllm.engine.chat.ChatTemplates#fromMetadata} reads a model's Jinja template from
 * its GGUF metadata; {@link io.batchllm.engine.chat.ChatTemplate} compiles and renders it as HF
 * transformers and llama.cpp do, with the Jinja2 interpreter of {@link io.batchllm.engine.chat.jinja};
 * {@link io.batchllm.engine.chat.ChatTemplateException} reports templates that do not compile,
 * conversations a template refuses, renders past their bounds, and models without a template.
 */
package io.batchllm.engine.chat;
