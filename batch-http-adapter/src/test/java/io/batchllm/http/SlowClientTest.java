package io.batchllm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.http.auth.Authenticator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow and broken clients, over raw sockets: a body trickled below the minimum data rate is a 408,
 * a body cut short a 400, both with the JSON envelope and never a 500; headers that trickle in get
 * the connection closed; connections past the cap wait until one closes.
 */
class SlowClientTest {
    /** How long a test waits for the server to act; generous for a loaded machine, never reached when it works. */
    private static final long DEADLINE_SECONDS = 60;
    private static final String LINE = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";

    @TempDir
    Path dir;

    private TestServer server(UnaryOperator<BatchHttpServer.Builder> customize) {
        return new TestServer(dir, b -> customize.apply(b.authenticator(Authenticator.none())));
    }

    /** A raw HTTP/1.1 connection; everything the server sends is collected by a reader thread. */
    private static final class Raw implements AutoCloseable {
        final Socket socket;
        final OutputStream out;
        final CompletableFuture<String> response = new CompletableFuture<>();

        Raw(TestServer s) throws IOException {
            socket = new Socket("127.0.0.1", s.server.port());
            out = socket.getOutputStream();
            Thread.ofVirtual().start(() -> {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                try (InputStream in = socket.getInputStream()) {
                    in.transferTo(all);
                } catch (IOException closedOrReset) {
                    // What arrived before the reset is all there is.
                }
                response.complete(all.toString(StandardCharsets.ISO_8859_1));
            });
        }

        void send(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /**
         * Sends {@code body} in pieces of {@code piece} bytes, each after waiting up to {@code pause}
         * for the server to end the exchange; stops as soon as it has (or refuses more bytes).
         */
        void trickle(String body, int piece, Duration pause) throws Exception {
            for (int i = 0; i < body.length() && !response.isDone(); i += piece) {
                try {
                    send(body.substring(i, Math.min(body.length(), i + piece)));
                } catch (IOException closed) {
                    return;
                }
                try {
                    response.get(pause.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillOpen) {
                    // The pace of a slow client: the next piece follows.
                }
            }
        }

        String await() throws Exception {
            return response.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void assertEnvelope(String response, int status, String code) {
        assertTrue(response.startsWith("HTTP/1.1 " + status + " "), response);
        assertTrue(response.contains("\"code\":\"" + code + "\""), response);
        assertTrue(response.toLowerCase().contains("x-request-id: req_"), response);
        assertTrue(response.toLowerCase().contains("content-type: application/json"), response);
    }

    private static List<String> entries(Path directory) throws IOException {
        try (Stream<Path> s = Files.list(directory)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void aJsonBodyTrickledBelowTheMinimumRateIs408() throws Exception {
        try (TestServer s = server(b -> b.minRequestDataRate(1024)); Raw c = new Raw(s)) {
            String body = "{\"input_file_id\":\"" + "x".repeat(20_000) + "\"}";
            c.send("POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n");
            c.trickle(body, 10, Duration.ofMillis(100));
            assertEnvelope(c.await(), 408, "request_timeout");
        }
    }

    @Test
    void anUploadTrickledBelowTheMinimumRateIs408AndStoresNothing() throws Exception {
        try (TestServer s = server(b -> b.minRequestDataRate(1024)); Raw c = new Raw(s)) {
            String body = "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--b\r\n"
                    + "Content-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n"
                    + LINE.repeat(200) + "\r\n--b--\r\n";
            c.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n");
            c.trickle(body, 10, Duration.ofMillis(100));
            assertEnvelope(c.await(), 408, "request_timeout");
            assertEquals(List.of(), s.service.files().list().data());
            assertEquals(List.of(), entries(dir.resolve("tmp")), "no spooled part is left");
        }
    }

    @Test
    void aBodyEndedBeforeItsContentLengthIs400NotA500() throws Exception {
        try (TestServer s = server(b -> b); Raw json = new Raw(s); Raw upload = new Raw(s)) {
            json.send("POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500"
                    + "\r\n\r\n{\"input_file_id\":");
            json.socket.shutdownOutput();
            assertEnvelope(json.await(), 400, "incomplete_body");

            upload.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                    + "Content-Length: 5000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
                    + "filename=\"in.jsonl\"\r\n\r\n" + LINE);
            upload.socket.shutdownOutput();
            assertEnvelope(upload.await(), 400, "incomplete_body");
            assertEquals(List.of(), entries(dir.resolve("tmp")), "no spooled part is left");
        }
    }

    @Test
    void headersThatTrickleInGetTheConnectionClosedUnanswered() throws Exception {
        try (TestServer s = server(b -> b.headerTimeout(Duration.ofMillis(500))); Raw c = new Raw(s)) {
            c.send("GET /health HTTP/1.1\r\nHost: x\r\n");
            // One byte of a header every 100 ms, for up to a minute: far more than two periods.
            c.trickle("X-Slow: " + "a".repeat(600), 1, Duration.ofMillis(100));
            assertEquals("", c.await(), "closed without serving the request");
        }
    }

    @Test
    void headersThatArriveWithinThePeriodAreServedEvenInPieces() throws Exception {
        try (TestServer s = server(b -> b.headerTimeout(Duration.ofSeconds(5))); Raw c = new Raw(s)) {
            c.trickle("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 16, Duration.ofMillis(50));
            String response = c.await();
            assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        }
    }

    @Test
    void connectionsPastTheCapWaitUntilOneCloses() throws Exception {
        try (TestServer s = server(b -> b.maxConnections(2));
             Raw first = new Raw(s); Raw second = new Raw(s)) {
            // Both held open by an unfinished request line.
            first.send("GET /hea");
            second.send("GET /hea");
            try (Socket third = new Socket("127.0.0.1", s.server.port())) {
                third.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = third.getInputStream();
                third.setSoTimeout(500);
                boolean servedPastTheCap;
                try {
                    servedPastTheCap = in.read() >= 0;
                } catch (SocketTimeoutException waiting) {
                    servedPastTheCap = false;
                }
                assertTrue(!servedPastTheCap, "a third connection was served with a cap of two");
                first.socket.close();
                third.setSoTimeout((int) TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
                String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(response.startsWith("HTTP/1.1 200 "), "served once a connection closed: " + response);
            }
        }
    }
}
