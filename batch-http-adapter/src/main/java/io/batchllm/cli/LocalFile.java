package io.batchllm.cli;

import java.nio.file.Path;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * A command-line path to a file on this machine. A URL ({@code http://…}, {@code s3://…}) is refused
 * by name: read as a path it would quietly become a local file or directory named {@code http:}.
 * ({@code vllm run-batch} accepts URLs; download or upload the file yourself.)
 */
final class LocalFile implements CommandLine.ITypeConverter<Path> {
    /** A URI scheme and {@code //}, as RFC 3986 spells it. */
    private static final Pattern URL = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");

    @Override
    public Path convert(String value) {
        if (URL.matcher(value).matches()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is a URL; run-batch reads and writes local "
                    + "files only: download the input first, or upload the output after the run");
        }
        return Path.of(value);
    }
}
