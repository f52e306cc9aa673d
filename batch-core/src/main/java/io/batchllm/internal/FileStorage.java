package io.batchllm.internal;

import io.batchllm.InsufficientStorageException;
import io.batchllm.PayloadTooLargeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * File contents on local disk, one file per id under {@code dataDirectory/files}. Writes go to a
 * temporary file that is moved into place only when complete, so a crash never leaves a partial
 * file under a real id.
 */
public final class FileStorage implements AutoCloseable {
    private static final int COPY_BUFFER = 1 << 16;
    /** A readiness probe's write: a few file-system blocks. */
    private static final int PROBE_BYTES = 16 * 1024;

    private final Path dir;
    private final Path tmp;
    private final ConcurrentHashMap<String, FileChannel> readers = new ConcurrentHashMap<>();

    public FileStorage(Path dataDirectory) {
        this.dir = dataDirectory.resolve("files");
        this.tmp = dataDirectory.resolve("tmp");
        try {
            Files.createDirectories(dir);
            Files.createDirectories(tmp);
            // Leftovers of uploads interrupted by a crash.
            try (var s = Files.list(tmp)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use data directory " + dataDirectory + ": " + e.getMessage(), e);
        }
    }

    /**
     * Streams {@code in} into the file {@code id}, refusing more than {@code maxBytes}.
     *
     * @return the number of bytes stored
     * @throws PayloadTooLargeException over the limit; nothing is kept
     */
    public long store(String id, InputStream in, long maxBytes, String limitDescription) {
        Path t = tmp.resolve(id + ".part");
        long n = 0;
        try (OutputStream out = Files.newOutputStream(t)) {
            byte[] buf = new byte[COPY_BUFFER];
            int r;
            while ((r = in.read(buf)) != -1) {
                n += r;
                if (n > maxBytes) {
                    throw new PayloadTooLargeException("file", "the file is larger than " + limitDescription
                            + " (" + maxBytes + " bytes); split it into smaller files");
                }
                out.write(buf, 0, r);
            }
        } catch (IOException e) {
            deleteQuietly(t);
            throw failure("cannot store the upload", e);
        } catch (RuntimeException e) {
            deleteQuietly(t);
            throw e;
        }
        try {
            sync(t);
        } catch (RuntimeException e) {
            deleteQuietly(t);
            throw e;
        }
        commit(t, id);
        return n;
    }

    /** A temporary file to write a result file into; {@link #commit} moves it into place. */
    public Path newTemporary(String id) {
        return tmp.resolve(id + ".part");
    }

    /** Moves a completed temporary file into place under {@code id}. */
    public void commit(Path temporary, String id) {
        try {
            Files.move(temporary, dir.resolve(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temporary);
            throw failure("cannot store file " + id, e);
        }
    }

    /** 507 when the disk is full (the caller can retry once there is room), else the I/O error. */
    private static RuntimeException failure(String what, IOException e) {
        return InsufficientStorageException.isFullDisk(e) ? new InsufficientStorageException("The file cannot be stored", e)
                : new UncheckedIOException(what + ": " + e.getMessage(), e);
    }

    /**
     * Writes a small file into the data directory and removes it again, to learn whether the disk has
     * room (for readiness).
     *
     * @throws InsufficientStorageException when it has none
     */
    public void probe() {
        Path p = tmp.resolve("probe-" + Ids.random(12) + ".part");
        try {
            Files.write(p, new byte[PROBE_BYTES]);
        } catch (IOException e) {
            throw failure("cannot write into " + tmp, e);
        } finally {
            deleteQuietly(p);
        }
        // The rename is durable only once the directory is: an upload is answered after this.
        sync(dir);
    }

    /**
     * Forces a file's bytes (or a directory's entries) to the disk, so that what a caller was told is
     * stored survives a power cut. Linux and macOS allow opening a directory for this; where a file
     * system refuses, the bytes are as durable as that file system makes them.
     */
    private static void sync(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!Files.isDirectory(p)) {
                throw failure("cannot write " + p + " to disk", e);
            }
        }
    }

    /** The stored bytes of {@code id}. */
    public InputStream open(String id) {
        try {
            return Files.newInputStream(dir.resolve(id));
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("the content of file " + id + " is missing from " + dir, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where {@code id} lives (for streaming validation). */
    public Path path(String id) {
        return dir.resolve(id);
    }

    /** Reads {@code length} bytes at {@code offset} of {@code id} as UTF-8 text (a request body). */
    public String read(String id, long offset, int length) {
        FileChannel ch = readers.computeIfAbsent(id, k -> {
            try {
                return FileChannel.open(dir.resolve(k), StandardOpenOption.READ);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the input file " + k + ": " + e.getMessage(), e);
            }
        });
        ByteBuffer buf = ByteBuffer.allocate(length);
        try {
            while (buf.hasRemaining()) {
                int r = ch.read(buf, offset + buf.position());
                if (r < 0) {
                    throw new IllegalStateException("input file " + id + " ends before byte " + (offset + length));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new String(buf.array(), StandardCharsets.UTF_8);
    }

    /** Closes the reader kept open for {@code id}, if any (its batch finished). */
    public void release(String id) {
        FileChannel ch = readers.remove(id);
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Removes the bytes of {@code id}. */
    public void delete(String id) {
        release(id);
        deleteQuietly(dir.resolve(id));
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // The file is unreachable either way; a later start clears tmp/.
            org.slf4j.LoggerFactory.getLogger(FileStorage.class).warn("could not delete {}: {}", p, e.getMessage());
        }
    }

    @Override
    public void close() {
        for (String id : readers.keySet()) {
            release(id);
        }
    }
}
