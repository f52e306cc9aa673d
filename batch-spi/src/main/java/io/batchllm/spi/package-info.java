/**
 * Plugin contracts of BatchLLM. Depends on the JDK only, so a plugin author needs nothing else.
 *
 * <ul>
 *   <li>{@link io.batchllm.spi.ResultHandler}: told of every finished request and every batch that
 *       reaches a terminal state.</li>
 *   <li>{@link io.batchllm.spi.InferenceBackendProvider} and {@link io.batchllm.spi.InferenceBackend}:
 *       run OpenAI-shaped requests against models.</li>
 * </ul>
 *
 * <p>Both are discovered with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/<interface name>}); instances registered explicitly on the service builder
 * take precedence over discovered ones.
 */
package io.batchllm.spi;
