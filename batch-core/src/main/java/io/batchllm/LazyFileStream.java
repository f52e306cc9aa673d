package io.batchllm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opens a file on first read, so that building a {@link FileUpload} does no I/O. */
final class LazyFileStream extends InputStream {
    private final Path path;
    private InputStream in;

    LazyFileStream(Path path) {
        this.path = path;
    }

    private InputStream in() throws IOException {
        if (in == null) {
            try {
                in = Files.newInputStream(path);
            } catch (NoSuchFileException e) {
                throw new InvalidRequestException("file", "no such file to upload: " + path);
            }
        }
        return in;
    }

    @Override
    public int read() throws IOException {
        return in().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        return in().read(b, off, len);
    }

    @Override
    public void close() {
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
