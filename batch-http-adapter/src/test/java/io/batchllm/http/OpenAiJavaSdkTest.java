package io.batchllm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.batches.BatchListParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileListParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI Java SDK (4.101.0, with response validation on), unchanged, against the server:
 * the whole batch flow, paging and errors.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiJavaSdkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL_LIMIT = Duration.ofSeconds(30);

    private TestServer server;
    private OpenAIClient client;

    @BeforeAll
    void start(@TempDir Path dir) {
        server = new TestServer(dir);
        client = OpenAIOkHttpClient.builder()
                .baseUrl(server.base() + "/v1")
                .apiKey("x")
                .responseValidation(true)
                .maxRetries(0)
                .build();
    }

    @AfterAll
    void stop() {
        client.close();
        server.close();
    }

    private static String line(String id, String content, String extra) {
        return "{\"custom_id\":\"" + id + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{"
                + "\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]"
                + extra + "}}\n";
    }

    private FileObject upload(String content) {
        return client.files().create(FileCreateParams.builder()
                .file(com.openai.core.MultipartField.<InputStream>builder()
                        .value(new java.io.ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)))
                        .filename("requests.jsonl").build())
                .purpose(FilePurpose.BATCH)
                .build());
    }

    private Batch create(String fileId) {
        return client.batches().create(BatchCreateParams.builder()
                .inputFileId(fileId)
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H)
                .build());
    }

    private Batch poll(String id) throws InterruptedException {
        long deadline = System.nanoTime() + POLL_LIMIT.toNanos();
        while (true) {
            Batch b = client.batches().retrieve(id);
            String s = b.status().asString();
            if (Set.of("completed", "failed", "expired", "cancelled").contains(s) || System.nanoTime() > deadline) {
                return b;
            }
            // Waits on the service, not a sleep: await returns as soon as the batch changes.
            server.service.batches().await(id, Duration.ofMillis(200));
        }
    }

    private List<JsonNode> download(String fileId) throws IOException {
        try (HttpResponse r = client.files().content(fileId); InputStream in = r.body()) {
            List<JsonNode> lines = new ArrayList<>();
            for (String l : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!l.isBlank()) {
                    lines.add(JSON.readTree(l));
                }
            }
            return lines;
        }
    }

    @Test
    void uploadCreatePollAndDownloadTheOutputAndErrorFiles() throws Exception {
        FileObject input = upload(line("ok-1", "hello", "") + line("ok-2", "world", "")
                + line("bad", "x", ",\"test_status\":400"));
        assertEquals("requests.jsonl", input.filename());
        assertEquals(FileObject.Status.PROCESSED, input.status());

        Batch created = create(input.id());
        assertEquals("validating", created.status().asString());
        assertTrue(created.requestCounts().isPresent());

        Batch done = poll(created.id());
        assertEquals("completed", done.status().asString());
        assertEquals(3, done.requestCounts().orElseThrow().total());
        assertEquals(2, done.requestCounts().orElseThrow().completed());
        assertEquals(1, done.requestCounts().orElseThrow().failed());

        List<JsonNode> out = download(done.outputFileId().orElseThrow());
        Set<String> ids = new HashSet<>();
        for (JsonNode l : out) {
            ids.add(l.get("custom_id").asText());
            assertEquals(200, l.at("/response/status_code").asInt());
        }
        assertEquals(Set.of("ok-1", "ok-2"), ids);
        assertTrue(out.stream().anyMatch(l ->
                l.at("/response/body/choices/0/message/content").asText().equals("echo: hello")), out.toString());
        List<JsonNode> err = download(done.errorFileId().orElseThrow());
        assertEquals(1, err.size());
        assertEquals("bad", err.getFirst().get("custom_id").asText());
        assertEquals(400, err.getFirst().at("/response/status_code").asInt());
        assertEquals("batch_output", client.files().retrieve(done.outputFileId().orElseThrow()).purpose().asString());
    }

    @Test
    void autoPagingVisitsEveryFileAndBatchOnce() {
        Set<String> fileIds = new HashSet<>();
        Set<String> batchIds = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            FileObject f = upload(line("p" + i, "page", ""));
            fileIds.add(f.id());
            batchIds.add(create(f.id()).id());
        }
        List<String> seenFiles = new ArrayList<>();
        client.files().list(FileListParams.builder().limit(2).purpose("batch").build()).autoPager()
                .forEach(f -> seenFiles.add(f.id()));
        assertTrue(new HashSet<>(seenFiles).containsAll(fileIds), "every uploaded file is listed: " + seenFiles);
        assertEquals(seenFiles.size(), new HashSet<>(seenFiles).size(), "no file is listed twice: " + seenFiles);

        List<String> seenBatches = new ArrayList<>();
        client.batches().list(BatchListParams.builder().limit(2).build()).autoPager()
                .forEach(b -> seenBatches.add(b.id()));
        assertTrue(new HashSet<>(seenBatches).containsAll(batchIds), "every batch is listed: " + seenBatches);
        assertEquals(seenBatches.size(), new HashSet<>(seenBatches).size(), "no batch is listed twice");
    }

    @Test
    void cancellingARunningBatchAndThenTheCancelledBatch() throws Exception {
        FileObject f = upload(line("held", "wait", ",\"test_hold\":true"));
        Batch b = create(f.id());
        Batch cancelling = client.batches().cancel(b.id());
        assertTrue(Set.of("cancelling", "cancelled").contains(cancelling.status().asString()),
                cancelling.status().asString());
        assertTrue(cancelling.cancellingAt().isPresent());
        server.backend.releaseHeld();
        Batch ended = poll(b.id());
        assertEquals("cancelled", ended.status().asString());

        OpenAIServiceException conflict = assertThrows(OpenAIServiceException.class,
                () -> client.batches().cancel(b.id()));
        assertEquals(409, conflict.statusCode());
        assertEquals(List.of("false"), conflict.headers().values("x-should-retry"));
        assertFalse(conflict.headers().values("x-request-id").isEmpty());
    }

    @Test
    void errorsArriveAsTheSdksExceptions() {
        NotFoundException missing = assertThrows(NotFoundException.class, () -> client.files().retrieve("file-nope"));
        assertEquals(404, missing.statusCode());
        assertTrue(missing.getMessage().contains("No such File object: file-nope"), missing.getMessage());

        BadRequestException bad = assertThrows(BadRequestException.class, () -> create("file-nope"));
        assertEquals("input_file_id", bad.param().orElseThrow());

        // Bytes without a file name: OpenAI needs the name (a batch file must be .jsonl).
        BadRequestException nameless = assertThrows(BadRequestException.class, () -> client.files().create(
                FileCreateParams.builder().file("x".getBytes(StandardCharsets.UTF_8)).purpose(FilePurpose.BATCH).build()));
        assertEquals("file", nameless.param().orElseThrow());

        FileObject f = upload(line("d", "del", ""));
        assertTrue(client.files().delete(f.id()).deleted());
        assertThrows(NotFoundException.class, () -> client.files().retrieve(f.id()));
    }
}
