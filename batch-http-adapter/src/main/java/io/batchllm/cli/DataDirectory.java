package io.batchllm.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's data directory for one run: the one given with {@code --data-dir}, kept, or a fresh
 * temporary one, deleted by {@link #close()}.
 */
final class DataDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);

    private final Path path;
    private final boolean temporary;

    private DataDirectory(Path path, boolean temporary) {
        this.path = path;
        this.temporary = temporary;
    }

    /** {@code given}, or a new temporary directory when {@code given} is null. */
    static DataDirectory of(Path given) {
        if (given != null) {
            return new DataDirectory(given, false);
        }
        try {
            return new DataDirectory(Files.createTempDirectory("batchllm-"), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary data directory (set --data-dir instead): "
                    + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    boolean temporary() {
        return temporary;
    }

    /** Deletes a temporary directory with everything in it; call after the service has closed. */
    @Override
    public void close() {
        if (!temporary || !Files.exists(path)) {
            return;
        }
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.warn("could not delete the temporary data directory {}: {}", path, e.toString());
        }
    }
}
