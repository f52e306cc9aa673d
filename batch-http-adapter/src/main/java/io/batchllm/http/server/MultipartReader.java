package io.batchllm.http.server;

import io.batchllm.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads a {@code multipart/form-data} body (RFC 7578) part by part from a stream, without holding a
 * part in memory: each part's content is an {@link InputStream} that ends at the next boundary, so a
 * file part can flow straight into the store. Jetty's own parser is push-based (chunks on callbacks);
 * on a virtual thread a blocking pull reader is the simpler bridge to {@code FileOperations.upload}.
 *
 * <p>Every syntax error is an {@link InvalidRequestException} naming {@code file}, the body parameter
 * a client fixes by sending a well-formed form. Not thread safe.
 */
final class MultipartReader {
    /** Total header bytes allowed per part; real clients send about 150. */
    static final int MAX_PART_HEADER_BYTES = 8 * 1024;
    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    private final byte[] delimiter;
    private final byte[] buf;
    private int pos;
    private int lim;
    private boolean eof;
    private PartStream current;
    private boolean finished;

    /** A part's name and file name (null for a plain field) and its content, valid until the next {@link #next()}. */
    record Part(String name, String filename, InputStream content) {
    }

    MultipartReader(InputStream in, String boundary) {
        this.in = in;
        // The delimiter is CRLF "--" boundary; the body's first boundary has no CRLF before it, so
        // the buffer starts with a virtual CRLF and the preamble becomes a part that is skipped.
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        this.buf = new byte[Math.max(BUFFER, delimiter.length * 4)];
        buf[0] = '\r';
        buf[1] = '\n';
        lim = 2;
        current = new PartStream();
    }

    /**
     * The boundary of a {@code multipart/form-data} content type.
     *
     * @throws InvalidRequestException another content type, or no boundary
     */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new InvalidRequestException("Content-Type", "invalid_content_type", "Uploads must be sent as "
                    + "multipart/form-data with a 'file' and a 'purpose' field; the Content-Type was "
                    + (contentType == null ? "missing" : "'" + contentType + "'") + ".");
        }
        for (String p : contentType.split(";")) {
            String t = p.strip();
            if (t.regionMatches(true, 0, "boundary=", 0, 9)) {
                String b = unquote(t.substring(9));
                if (!b.isEmpty() && b.length() <= 70) {
                    return b;
                }
            }
        }
        throw new InvalidRequestException("Content-Type", "invalid_content_type",
                "The multipart/form-data Content-Type has no valid boundary parameter (1 to 70 characters).");
    }

    /** The next part, or null after the closing boundary. The previous part's unread content is skipped. */
    Part next() throws IOException {
        if (finished) {
            return null;
        }
        current.skipRest();
        consume(delimiter.length);
        // After a delimiter: "--" closes the body, CRLF starts a part (optional whitespace before it).
        if (startsWith("--")) {
            finished = true;
            return null;
        }
        while (ensure(1) && (buf[pos] == ' ' || buf[pos] == '\t')) {
            pos++;
        }
        if (!startsWith("\r\n")) {
            throw malformed("a boundary line is not followed by CRLF");
        }
        pos += 2;
        String name = null;
        String filename = null;
        int headerBytes = 0;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            headerBytes += line.length() + 2;
            if (headerBytes > MAX_PART_HEADER_BYTES) {
                throw malformed("a part's headers are longer than " + MAX_PART_HEADER_BYTES + " bytes");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw malformed("the part header '" + abbreviate(line) + "' has no ':'");
            }
            if (line.substring(0, colon).strip().equalsIgnoreCase("Content-Disposition")) {
                for (String param : line.substring(colon + 1).split(";")) {
                    String t = param.strip();
                    int eq = t.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String key = t.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                    String value = unquote(t.substring(eq + 1).strip());
                    if (key.equals("name")) {
                        name = value;
                    } else if (key.equals("filename")) {
                        filename = value;
                    }
                }
            }
        }
        if (name == null) {
            throw malformed("a part has no Content-Disposition name");
        }
        current = new PartStream();
        return new Part(name, filename == null ? null : new String(filename.getBytes(StandardCharsets.ISO_8859_1),
                StandardCharsets.UTF_8), current);
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (!ensure(2)) {
                throw malformed("the body ends inside a part's headers");
            }
            if (buf[pos] == '\r' && buf[pos + 1] == '\n') {
                pos += 2;
                return sb.toString();
            }
            sb.append((char) (buf[pos++] & 0xff));
            if (sb.length() > MAX_PART_HEADER_BYTES) {
                throw malformed("a part header line is longer than " + MAX_PART_HEADER_BYTES + " bytes");
            }
        }
    }

    private boolean startsWith(String s) throws IOException {
        if (!ensure(s.length())) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (buf[pos + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private void consume(int n) throws IOException {
        if (!ensure(n)) {
            throw malformed("the body ends before its closing boundary");
        }
        pos += n;
    }

    /** Makes at least {@code n} unread bytes available; false if the stream ends first. */
    private boolean ensure(int n) throws IOException {
        while (lim - pos < n) {
            if (eof) {
                return false;
            }
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            int r = in.read(buf, lim, buf.length - lim);
            if (r < 0) {
                eof = true;
            } else {
                lim += r;
            }
        }
        return true;
    }

    /** Index of the delimiter in the unread bytes, or -1. */
    private int findDelimiter() {
        byte first = delimiter[0];
        outer:
        for (int i = pos; i <= lim - delimiter.length; i++) {
            if (buf[i] != first) {
                continue;
            }
            for (int j = 1; j < delimiter.length; j++) {
                if (buf[i + j] != delimiter[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static InvalidRequestException malformed(String what) {
        return new InvalidRequestException("file", "malformed_multipart", "Malformed multipart/form-data body: "
                + what + ". Send the upload as an ordinary form with a 'file' and a 'purpose' field.");
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    /** One part's content: the bytes up to the next delimiter, which it leaves unread. */
    private final class PartStream extends InputStream {
        private boolean ended;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (ended) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            // Enough bytes to recognise a delimiter that starts at pos; a partial one at the end of
            // the buffer is never handed out as content.
            if (!ensure(delimiter.length)) {
                throw malformed("the body ends before its closing boundary");
            }
            int at = findDelimiter();
            int available = at >= 0 ? at - pos : lim - pos - (delimiter.length - 1);
            if (available == 0) {
                ended = true;
                return -1;
            }
            int n = Math.min(available, len);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }

        void skipRest() throws IOException {
            byte[] scratch = new byte[8192];
            while (read(scratch, 0, scratch.length) >= 0) {
                // discard
            }
        }
    }
}
