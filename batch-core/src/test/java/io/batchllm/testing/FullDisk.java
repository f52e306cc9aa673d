package io.batchllm.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * A disk that a test can fill: an H2 file system ({@code jdbc:h2:fulldisk:/path/db}) over the real
 * one whose writes fail with "No space left on device", as the OS reports a full disk, while
 * {@link #fill(boolean)} is on. H2 reacts as on a real full disk: the store closes itself.
 */
public final class FullDisk extends FilePathWrapper {
    /** The H2 URL prefix of this file system. */
    public static final String SCHEME = "fulldisk";
    private static volatile boolean full;

    static {
        FilePath.register(new FullDisk());
    }

    /** An embedded H2 URL for {@code path} on this file system. */
    public static String h2Url(java.nio.file.Path path) {
        return "jdbc:h2:" + SCHEME + ":" + path.toAbsolutePath();
    }

    /** Whether writes fail from now on. */
    public static void fill(boolean on) {
        full = on;
    }

    static IOException noSpace() {
        return new IOException("No space left on device");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Channel(super.open(mode));
    }

    @Override
    public OutputStream newOutputStream(boolean append) throws IOException {
        if (full) {
            throw noSpace();
        }
        return super.newOutputStream(append);
    }

    /** A channel whose writes fail while the disk is full. */
    private static final class Channel extends FileBase {
        private final FileChannel base;

        Channel(FileChannel base) {
            this.base = base;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return base.read(dst);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (full) {
                throw noSpace();
            }
            return base.write(src);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            if (full) {
                throw noSpace();
            }
            return base.write(src, position);
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}
