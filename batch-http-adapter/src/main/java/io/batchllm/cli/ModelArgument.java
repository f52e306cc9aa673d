package io.batchllm.cli;

import java.nio.file.Path;
import picocli.CommandLine;

/**
 * One {@code --model NAME=PATH.gguf}: requests whose {@code model} is {@code name} run on the GGUF
 * file at {@code path}.
 */
record ModelArgument(String name, Path path) {

    /** Parses {@code NAME=PATH}; the message of a bad value shows the expected form. */
    static final class Converter implements CommandLine.ITypeConverter<ModelArgument> {
        @Override
        public ModelArgument convert(String value) {
            int eq = value.indexOf('=');
            if (eq < 0) {
                throw new CommandLine.TypeConversionException("'" + value + "' has no '='; write NAME=PATH.gguf, "
                        + "e.g. --model llama=models/Llama-3.2-1B-Instruct-Q8_0.gguf (requests then say \"model\": \"llama\")");
            }
            String name = value.substring(0, eq).strip();
            String path = value.substring(eq + 1).strip();
            if (name.isEmpty()) {
                throw new CommandLine.TypeConversionException("'" + value + "' has no model name before '='; write NAME=PATH.gguf");
            }
            if (path.isEmpty()) {
                throw new CommandLine.TypeConversionException("'" + value + "' has no file after '='; write NAME=PATH.gguf");
            }
            return new ModelArgument(name, Path.of(path));
        }
    }
}
