package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.testing.Expect;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import io.batchllm.testing.Poll;
import io.batchllm.testing.TestBackend;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Files API through {@link FileOperations}: conformance rows F1 to F10. */
class FilesApiTest {
    private static final long THIRTY_DAYS = 2_592_000;
    private static final long START_SECONDS = Harness.START.getEpochSecond();

    @TempDir
    Path dir;

    private static FileObject upload(Harness h, String name, FilePurpose purpose, String content) {
        return h.service.files().upload(stream(content), name, purpose);
    }

    private static InputStream stream(String content) {
        return new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] content(Harness h, String id) throws IOException {
        try (InputStream in = h.service.files().content(id)) {
            return in.readAllBytes();
        }
    }

    private static List<String> ids(Page<FileObject> page) {
        return page.data().stream().map(FileObject::id).toList();
    }

    private static List<String> entries(Path directory) throws IOException {
        try (Stream<Path> s = Files.list(directory)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    @DisplayName("F1: an expiry of 3600 or 2592000 seconds is accepted and sets expires_at from created_at")
    void expiryAtEitherEndOfTheRangeIsAccepted() {
        try (Harness h = new Harness(dir)) {
            FileObject hour = h.service.files().upload(FileUpload.of(stream("{}\n"), "a.jsonl", FilePurpose.BATCH)
                    .withExpiresAfterSeconds(3600L));
            assertEquals(hour.createdAt() + 3600, hour.expiresAt());
            FileObject month = h.service.files().upload(FileUpload.of(stream("x"), "b.txt", FilePurpose.USER_DATA)
                    .withExpiresAfterSeconds(THIRTY_DAYS));
            assertEquals(month.createdAt() + THIRTY_DAYS, month.expiresAt());
        }
    }

    @Test
    @DisplayName("F1: an expiry outside 3600..2592000 seconds is a 400 naming expires_after[seconds], and nothing is stored")
    void expiryOutsideTheRangeIsRefused() {
        try (Harness h = new Harness(dir)) {
            for (long seconds : new long[] {-1, 0, 3599, THIRTY_DAYS + 1}) {
                Expect.badRequest("expires_after[seconds]", () -> h.service.files().upload(
                        FileUpload.of(stream("{}\n"), "a.jsonl", FilePurpose.BATCH).withExpiresAfterSeconds(seconds)));
            }
            assertTrue(h.service.files().list().data().isEmpty());
        }
    }

    @Test
    @DisplayName("F2: assistants, batch, fine-tune, vision, user_data and evals are accepted on upload")
    void everyUploadablePurposeIsAccepted() throws Exception {
        try (Harness h = new Harness(dir)) {
            for (String wire : List.of("assistants", "batch", "fine-tune", "vision", "user_data", "evals")) {
                FileObject f = upload(h, "f.jsonl", FilePurpose.forUpload(wire), "{}\n");
                assertEquals(wire, f.purpose().wire());
                assertEquals(wire, Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(f)).get("purpose").asText());
            }
        }
    }

    @Test
    @DisplayName("F2: output purposes and unknown names are refused on upload with a 400 naming purpose")
    void outputAndUnknownPurposesAreRefused() {
        for (String wire : List.of("batch_output", "assistants_output", "fine-tune-results", "Batch", "nonsense", "")) {
            Expect.badRequest("purpose", () -> FilePurpose.forUpload(wire));
        }
        try (Harness h = new Harness(dir)) {
            for (FilePurpose p : List.of(FilePurpose.BATCH_OUTPUT, FilePurpose.ASSISTANTS_OUTPUT,
                    FilePurpose.FINE_TUNE_RESULTS)) {
                Expect.badRequest("purpose", () -> upload(h, "out.jsonl", p, "{}\n"));
            }
            assertTrue(h.service.files().list().data().isEmpty());
        }
    }

    @Test
    @DisplayName("F2: the File object's purposes have OpenAI's wire names")
    void filePurposesHaveOpenAIWireNames() throws Exception {
        Set<String> wire = new TreeSet<>();
        for (FilePurpose p : FilePurpose.values()) {
            wire.add(Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(p)).asText());
        }
        assertEquals(new TreeSet<>(List.of("assistants", "assistants_output", "batch", "batch_output", "fine-tune",
                "fine-tune-results", "vision", "user_data", "evals")), wire);
    }

    @Test
    @DisplayName("F3: a batch file not named .jsonl is a 400 'Invalid file format for Batch API. Must be .jsonl'")
    void batchFilesMustBeJsonl() {
        try (Harness h = new Harness(dir)) {
            for (String name : List.of("input.json", "input.csv", "input", "input.jsonl.txt")) {
                InvalidRequestException e = assertThrows(InvalidRequestException.class,
                        () -> upload(h, name, FilePurpose.BATCH, Jsonl.chatLines(1)));
                assertEquals(400, e.httpStatus());
                assertEquals("invalid_request_error", e.type());
                assertEquals("Invalid file format for Batch API. Must be .jsonl", e.getMessage());
            }
            assertTrue(h.service.files().list().data().isEmpty());
            assertEquals(FilePurpose.BATCH, upload(h, "INPUT.JSONL", FilePurpose.BATCH, Jsonl.chatLines(1)).purpose());
            assertEquals(FilePurpose.USER_DATA, upload(h, "notes.txt", FilePurpose.USER_DATA, "text").purpose());
        }
    }

    @Test
    @DisplayName("a file name over 1024 characters is a 400 naming the limit, not the job store's SQL error")
    void anOverlongFileNameIsRefusedWithItsLimit() throws Exception {
        try (Harness h = new Harness(dir)) {
            String name = "n".repeat(FileUpload.MAX_FILENAME_LENGTH - 6) + ".jsonl";
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> upload(h, "n" + name, FilePurpose.BATCH, Jsonl.chatLines(1)));
            assertEquals("file", e.param());
            assertTrue(e.getMessage().contains("at most 1024"), e.getMessage());
            assertTrue(h.service.files().list().data().isEmpty());
            assertEquals(List.of(), entries(dir.resolve("files")), "no stored bytes");
            assertEquals(name, upload(h, name, FilePurpose.BATCH, Jsonl.chatLines(1)).filename(), "1024 fit");
        }
    }

    @Test
    @DisplayName("F3: an upload over its size cap is a PayloadTooLargeException and leaves no file, row or partial file")
    void oversizedUploadIsRefusedAndLeavesNothing() throws Exception {
        try (Harness h = new Harness(dir, TestBackend.standard(),
                b -> b.maxBatchFileBytes(1_000).maxFileBytes(2_000))) {
            PayloadTooLargeException batch = assertThrows(PayloadTooLargeException.class,
                    () -> upload(h, "big.jsonl", FilePurpose.BATCH, "x".repeat(1_001)));
            assertEquals(413, batch.httpStatus());
            assertEquals("file", batch.param());
            PayloadTooLargeException other = assertThrows(PayloadTooLargeException.class,
                    () -> upload(h, "big.txt", FilePurpose.USER_DATA, "x".repeat(2_001)));
            assertEquals(413, other.httpStatus());

            assertTrue(h.service.files().list().data().isEmpty(), "a refused upload must not be listed");
            assertEquals(List.of(), entries(dir.resolve("files")), "no stored bytes");
            assertEquals(List.of(), entries(dir.resolve("tmp")), "no partial upload");

            // The caps are inclusive, and the general cap applies to other purposes.
            assertEquals(1_000, upload(h, "max.jsonl", FilePurpose.BATCH, "x".repeat(1_000)).bytes());
            assertEquals(1_500, upload(h, "mid.txt", FilePurpose.USER_DATA, "x".repeat(1_500)).bytes());
            assertEquals(2, h.service.files().list().data().size());
        }
    }

    @Test
    @DisplayName("F3: malformed lines are accepted at upload with status processed")
    void malformedLinesAreAcceptedAtUpload() {
        try (Harness h = new Harness(dir)) {
            String content = "this is not json\n{\"custom_id\": \n[1,2,3]\n";
            FileObject f = upload(h, "bad.jsonl", FilePurpose.BATCH, content);
            assertEquals("processed", f.status());
            assertEquals(content.length(), f.bytes());
            assertEquals(f, h.service.files().get(f.id()));
        }
    }

    @Test
    @DisplayName("F4: a File serializes with every key, nulls included, object 'file', status processed and integer seconds")
    void fileObjectHasEveryKey() throws Exception {
        try (Harness h = new Harness(dir)) {
            String content = "hello, files";
            FileObject f = upload(h, "notes.txt", FilePurpose.USER_DATA, content);
            JsonNode json = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(f));
            List<String> keys = new ArrayList<>();
            json.fieldNames().forEachRemaining(keys::add);
            assertEquals(Set.of("id", "object", "bytes", "created_at", "filename", "purpose", "status", "expires_at",
                    "status_details"), Set.copyOf(keys));
            assertEquals(9, keys.size());
            assertTrue(json.get("id").asText().startsWith("file-"), json.toString());
            assertEquals("file", json.get("object").asText());
            assertTrue(json.get("bytes").isIntegralNumber());
            assertEquals(content.length(), json.get("bytes").asLong());
            assertTrue(json.get("created_at").isIntegralNumber(), "seconds, not a float or a string");
            assertEquals(START_SECONDS, json.get("created_at").asLong());
            assertEquals("notes.txt", json.get("filename").asText());
            assertEquals("user_data", json.get("purpose").asText());
            assertEquals("processed", json.get("status").asText());
            assertTrue(json.get("expires_at").isNull());
            assertTrue(json.get("status_details").isNull());
        }
    }

    @Test
    @DisplayName("F5: batch files expire 30 days after creation by default; other purposes never expire")
    void batchFilesExpireAfterThirtyDays() {
        try (Harness h = new Harness(dir)) {
            h.clock.advance(Duration.ofSeconds(17));
            FileObject batch = upload(h, "in.jsonl", FilePurpose.BATCH, Jsonl.chatLines(1));
            assertEquals(START_SECONDS + 17, batch.createdAt());
            assertEquals(batch.createdAt() + THIRTY_DAYS, batch.expiresAt());
            for (FilePurpose p : List.of(FilePurpose.ASSISTANTS, FilePurpose.FINE_TUNE, FilePurpose.VISION,
                    FilePurpose.USER_DATA, FilePurpose.EVALS)) {
                assertNull(upload(h, "f.jsonl", p, "{}\n").expiresAt(), p.wire());
            }
        }
    }

    @Test
    @DisplayName("F6: the purpose filter returns only files of that purpose")
    void listFiltersByPurpose() {
        try (Harness h = new Harness(dir)) {
            FileObject b1 = upload(h, "1.jsonl", FilePurpose.BATCH, "{}\n");
            FileObject u = upload(h, "u.txt", FilePurpose.USER_DATA, "u");
            FileObject b2 = upload(h, "2.jsonl", FilePurpose.BATCH, "{}\n");
            FileOperations files = h.service.files();
            assertEquals(List.of(b2.id(), b1.id()),
                    ids(files.list(new FileListQuery(FilePurpose.BATCH, null, 100, ListOrder.DESC))));
            assertEquals(List.of(u.id()),
                    ids(files.list(new FileListQuery(FilePurpose.USER_DATA, null, 100, ListOrder.DESC))));
            assertEquals(List.of(), ids(files.list(new FileListQuery(FilePurpose.VISION, null, 100, ListOrder.DESC))));
            assertEquals(3, files.list().data().size());
        }
    }

    @Test
    @DisplayName("F6: limit must be 1 to 10000; 0 and 10001 are a 400 naming limit")
    void listLimitRange() {
        Expect.badRequest("limit", () -> new FileListQuery(null, null, 0, ListOrder.DESC));
        Expect.badRequest("limit", () -> new FileListQuery(null, null, 10_001, ListOrder.DESC));
        Expect.badRequest("order", () -> ListOrder.fromWire("newest"));
        assertEquals(1, new FileListQuery(null, null, 1, null).limit());
        assertEquals(ListOrder.DESC, new FileListQuery(null, null, 10_000, null).order(), "desc is the default");
        assertEquals(10_000, FileListQuery.all().limit());
    }

    @Test
    @DisplayName("F6: files list newest first by default and oldest first with order asc, as a full list object")
    void listOrdersByCreationTime() throws Exception {
        try (Harness h = new Harness(dir)) {
            FileObject a = upload(h, "a.txt", FilePurpose.USER_DATA, "a");
            h.clock.advance(Duration.ofSeconds(1));
            FileObject b = upload(h, "b.txt", FilePurpose.USER_DATA, "b");
            h.clock.advance(Duration.ofSeconds(1));
            FileObject c = upload(h, "c.txt", FilePurpose.USER_DATA, "c");

            Page<FileObject> desc = h.service.files().list();
            assertEquals(List.of(c.id(), b.id(), a.id()), ids(desc));
            assertEquals(c.id(), desc.firstId());
            assertEquals(a.id(), desc.lastId());
            assertFalse(desc.hasMore());
            Page<FileObject> asc = h.service.files().list(new FileListQuery(null, null, 100, ListOrder.fromWire("asc")));
            assertEquals(List.of(a.id(), b.id(), c.id()), ids(asc));
            assertTrue(asc.data().get(0).createdAt() < asc.data().get(1).createdAt());

            JsonNode json = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(desc));
            assertEquals("list", json.get("object").asText());
            assertEquals(3, json.get("data").size());
            assertEquals(c.id(), json.get("first_id").asText());
            assertEquals(a.id(), json.get("last_id").asText());
            assertTrue(json.get("has_more").isBoolean());
        }
    }

    @Test
    @DisplayName("F7: paging with after=<last id> walks every file and ends on an empty page, not an error")
    void pagingEndsOnAnEmptyPage() throws Exception {
        try (Harness h = new Harness(dir)) {
            List<String> uploaded = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                uploaded.add(upload(h, i + ".txt", FilePurpose.USER_DATA, "x" + i).id());
            }
            for (ListOrder order : ListOrder.values()) {
                List<String> seen = new ArrayList<>();
                List<Boolean> hasMore = new ArrayList<>();
                String after = null;
                Page<FileObject> page;
                do {
                    page = h.service.files().list(new FileListQuery(null, after, 2, order));
                    seen.addAll(ids(page));
                    hasMore.add(page.hasMore());
                    if (!page.data().isEmpty()) {
                        assertEquals(page.data().getFirst().id(), page.firstId());
                        assertEquals(page.data().getLast().id(), page.lastId());
                        after = page.lastId();
                    }
                } while (!page.data().isEmpty());
                List<String> expected = order == ListOrder.ASC ? uploaded : uploaded.reversed();
                assertEquals(expected, seen, order.wire());
                // Pages of 2, 2, 1, then the empty page an older Java SDK asks for.
                assertEquals(List.of(true, true, false, false), hasMore, order.wire());
                assertEquals("", page.firstId(), "first_id is a string even on an empty page");
                assertEquals("", page.lastId());
                JsonNode json = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(page));
                assertTrue(json.get("first_id").isTextual());
                assertTrue(json.get("last_id").isTextual());
                assertEquals(0, json.get("data").size());
            }
        }
    }

    @Test
    @DisplayName("F8: get, content and delete of an unknown id are a 404 naming id: 'No such File object: <id>'")
    void unknownFileIsNotFound() {
        try (Harness h = new Harness(dir)) {
            FileOperations files = h.service.files();
            Expect.notFound("No such File object: file-nope", () -> files.get("file-nope"));
            Expect.notFound("No such File object: file-nope", () -> files.content("file-nope"));
            Expect.notFound("No such File object: file-nope", () -> files.delete("file-nope"));
        }
    }

    @Test
    @DisplayName("F9: content returns exactly the uploaded bytes, whatever they are")
    void contentIsByteIdentical() throws Exception {
        try (Harness h = new Harness(dir)) {
            String text = Jsonl.chatLine("r\u00e9", "caf\u00e9 \u2603 \uD83D\uDE00") + "\r\n\n  \r\n"
                    + Jsonl.chatLine("b", "no newline at the end");
            FileObject jsonl = upload(h, "in.jsonl", FilePurpose.BATCH, text);
            assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), content(h, jsonl.id()));
            assertEquals(text.getBytes(StandardCharsets.UTF_8).length, jsonl.bytes());

            byte[] binary = new byte[70_000]; // more than one copy buffer
            for (int i = 0; i < binary.length; i++) {
                binary[i] = (byte) (i * 31);
            }
            FileObject bin = h.service.files().upload(new ByteArrayInputStream(binary), "blob.png", FilePurpose.VISION);
            assertEquals(binary.length, bin.bytes());
            assertArrayEquals(binary, content(h, bin.id()));
        }
    }

    @Test
    @DisplayName("F10: delete answers {id, object:file, deleted:true}; afterwards get, content and delete are 404")
    void deleteRemovesTheFile() throws Exception {
        try (Harness h = new Harness(dir)) {
            FileOperations files = h.service.files();
            FileObject keep = upload(h, "keep.txt", FilePurpose.USER_DATA, "keep");
            FileObject f = upload(h, "gone.txt", FilePurpose.USER_DATA, "gone");

            FileDeleted deleted = files.delete(f.id());
            assertEquals(new FileDeleted(f.id(), true), deleted);
            JsonNode json = Jsonl.JSON.readTree(Jsonl.JSON.writeValueAsString(deleted));
            assertEquals(3, json.size());
            assertEquals(f.id(), json.get("id").asText());
            assertEquals("file", json.get("object").asText());
            assertTrue(json.get("deleted").asBoolean());

            String message = "No such File object: " + f.id();
            Expect.notFound(message, () -> files.get(f.id()));
            Expect.notFound(message, () -> files.content(f.id()));
            Expect.notFound(message, () -> files.delete(f.id()));
            assertEquals(List.of(keep.id()), ids(files.list()));
            assertEquals(List.of(keep.id()), entries(dir.resolve("files")), "the deleted file's bytes are gone");
            assertArrayEquals("keep".getBytes(StandardCharsets.UTF_8), content(h, keep.id()));
        }
    }

    @Test
    @DisplayName("F10: deleting the input of a running batch hides it at once but the batch still reads every line")
    void deletingARunningBatchInputKeepsItsBytesUntilTheBatchEnds() throws Exception {
        try (Harness h = new Harness(dir, TestBackend.standard(), b -> b.maxInFlight(2))) {
            String hold = "\"test_hold\":true";
            FileObject input = h.upload(Jsonl.chatLine("held-0", "a", hold) + "\n" + Jsonl.chatLine("held-1", "b", hold)
                    + "\n" + Jsonl.chatLines(3));
            Batch b = h.service.batches().create(input.id(), Endpoint.CHAT_COMPLETIONS);
            Poll.until("two held lines", () -> h.backend.heldCount() == 2);
            assertTrue(h.service.files().delete(input.id()).deleted());
            Expect.notFound("No such File object: " + input.id(), () -> h.service.files().get(input.id()));

            h.backend.releaseHeld();
            Batch done = h.service.batches().await(b.id(), Duration.ofSeconds(30));
            assertEquals(BatchStatus.COMPLETED, done.status(), () -> done.toString());
            assertEquals(new RequestCounts(5, 5, 0), done.requestCounts(), "lines read after the delete still ran");
            Poll.until("the deleted input's bytes to be removed",
                    () -> !Files.exists(dir.resolve("files").resolve(input.id())));
        }
    }

    @Test
    @DisplayName("F5: a file past its expires_at is removed: get is a 404 and its bytes are gone")
    void expiredFilesAreRemoved() throws Exception {
        try (Harness h = new Harness(dir)) {
            FileObject f = h.service.files().upload(FileUpload.of(stream("bye"), "tmp.txt", FilePurpose.USER_DATA)
                    .withExpiresAfterSeconds(3600L));
            FileObject keep = upload(h, "keep.txt", FilePurpose.USER_DATA, "keep");
            h.clock.advance(Duration.ofSeconds(3599));
            assertEquals(f, h.service.files().get(f.id()), "not yet expired");
            h.clock.advance(Duration.ofSeconds(2));
            Poll.until("the expired file to go", () -> ids(h.service.files().list()).equals(List.of(keep.id())));
            Expect.notFound("No such File object: " + f.id(), () -> h.service.files().get(f.id()));
            // The row is marked deleted first and the bytes removed just after, so wait for both.
            Poll.until("the expired file's bytes to go", () -> !Files.exists(dir.resolve("files").resolve(f.id())));
            assertTrue(Files.exists(dir.resolve("files").resolve(keep.id())));
        }
    }
}
