/**
 * Finding the GGUF files users already have, by the names the tools that downloaded them use: the
 * Ollama store ({@code ollama:qwen3:0.6b}), the Hugging Face cache
 * ({@code hf:Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf}) and LM Studio's models folder
 * ({@code lmstudio:lmstudio-community/Qwen3-0.6B-GGUF}). See {@link io.batchllm.modelfiles.ModelLocator}.
 * Nothing is ever downloaded.
 */
package io.batchllm.modelfiles;
