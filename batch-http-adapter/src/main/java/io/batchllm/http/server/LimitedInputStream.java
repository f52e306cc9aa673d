package io.batchllm.http.server;

import io.batchllm.PayloadTooLargeException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body that fails with 413 once more than its cap has been read (chunked bodies have no
 * length), and whose read failures (too slow, cut off, malformed chunks) are marked as the client's,
 * as a {@link BodyFailures.ReadFailed}, so that they are answered 408 or 400 and not mistaken for a
 * fault of the server (such as a failed write of the spool file behind a form parser).
 */
final class LimitedInputStream extends FilterInputStream {
    private final long max;
    private final String param;
    private long read;

    LimitedInputStream(InputStream in, long max, String param) {
        super(in);
        this.max = max;
        this.param = param;
    }

    @Override
    public int read() throws IOException {
        int b;
        try {
            b = super.read();
        } catch (IOException e) {
            throw new BodyFailures.ReadFailed(e);
        }
        if (b >= 0) {
            count(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = super.read(b, off, len);
        } catch (IOException e) {
            throw new BodyFailures.ReadFailed(e);
        }
        if (n > 0) {
            count(n);
        }
        return n;
    }

    private void count(int n) {
        read += n;
        if (read > max) {
            throw tooLarge(max, param);
        }
    }

    static PayloadTooLargeException tooLarge(long max, String param) {
        return new PayloadTooLargeException(param, "The request body is larger than this server accepts ("
                + max + " bytes).");
    }
}
