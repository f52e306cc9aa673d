package io.batchllm.cli;

import io.batchllm.modelfiles.ModelLocator;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * One {@code --model}: {@code NAME=PATH.gguf} (requests whose {@code model} is {@code name} run on
 * the GGUF file at {@code path}), or a model where a tool keeps it, {@code [NAME=]ollama:qwen3:0.6b},
 * {@code [NAME=]hf:ORG/REPO/FILE.gguf} or {@code [NAME=]lmstudio:PUBLISHER/REPO} (see
 * {@link ModelLocator}), whose name is the reference itself unless {@code NAME=} gives one.
 */
record ModelArgument(String name, Path path) {

    /** The form of the value, for messages. */
    static final String FORM = "NAME=PATH.gguf, or [NAME=]ollama:MODEL[:TAG], [NAME=]hf:ORG/REPO/FILE.gguf or "
            + "[NAME=]lmstudio:PUBLISHER/REPO";

    /** Parses {@code NAME=PATH} or a reference; the message of a bad value shows the expected form. */
    static final class Converter implements CommandLine.ITypeConverter<ModelArgument> {
        private final ModelLocator locator;

        /** Resolves references in this user's home and environment (picocli's constructor). */
        Converter() {
            this(ModelLocator.fromEnvironment());
        }

        Converter(ModelLocator locator) {
            this.locator = locator;
        }

        @Override
        public ModelArgument convert(String value) {
            if (ModelLocator.isReference(value.strip())) {
                return new ModelArgument(value.strip(), resolve(value.strip()));
            }
            int eq = value.indexOf('=');
            if (eq < 0) {
                throw new CommandLine.TypeConversionException("'" + value + "' has no '='; write " + FORM
                        + ", e.g. --model llama=models/Llama-3.2-1B-Instruct-Q8_0.gguf (requests then say \"model\": "
                        + "\"llama\")");
            }
            String name = value.substring(0, eq).strip();
            String path = value.substring(eq + 1).strip();
            if (name.isEmpty()) {
                throw new CommandLine.TypeConversionException("'" + value + "' has no model name before '='; write "
                        + FORM);
            }
            if (path.isEmpty()) {
                throw new CommandLine.TypeConversionException("'" + value + "' has no file after '='; write " + FORM);
            }
            return new ModelArgument(name, ModelLocator.isReference(path) ? resolve(path) : Path.of(path));
        }

        private Path resolve(String reference) {
            try {
                return locator.resolve(reference);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
