package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.testing.Harness;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BatchService#forTenant}: each tenant sees only its own files and batches; others are 404, never 403. */
class TenantScopeTest {
    private static final String LINE = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"test-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";

    @TempDir
    Path dir;

    private static FileObject upload(TenantScope t, String content) {
        return t.files().upload(new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), "in.jsonl",
                FilePurpose.BATCH);
    }

    private static List<String> fileIds(FileOperations files) {
        return files.list().data().stream().map(FileObject::id).toList();
    }

    @Test
    void anotherTenantsFileIsNotFoundForEveryFileOperation() throws IOException {
        try (Harness h = new Harness(dir)) {
            TenantScope acme = h.service.forTenant("acme");
            TenantScope globex = h.service.forTenant("globex");
            FileObject f = upload(acme, LINE);

            for (var op : List.<Runnable>of(() -> globex.files().get(f.id()), () -> globex.files().content(f.id()),
                    () -> globex.files().delete(f.id()))) {
                NotFoundException e = assertThrows(NotFoundException.class, op::run);
                assertEquals(404, e.httpStatus());
                assertEquals("No such File object: " + f.id(), e.getMessage());
            }
            assertEquals(List.of(), fileIds(globex.files()));
            assertEquals(List.of(f.id()), fileIds(acme.files()));
            try (InputStream in = acme.files().content(f.id())) {
                assertEquals(LINE, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            // The refused delete left the file in place.
            assertEquals(f, acme.files().get(f.id()));
        }
    }

    @Test
    void theUnscopedViewSeesEveryTenantsObjects() {
        try (Harness h = new Harness(dir)) {
            FileObject a = upload(h.service.forTenant("acme"), LINE);
            FileObject g = upload(h.service.forTenant("globex"), LINE);
            assertEquals(Set.of(a.id(), g.id()), Set.copyOf(fileIds(h.service.files())));
            assertEquals("acme", h.service.jobStore().findFile(a.id()).orElseThrow().owner());
        }
    }

    @Test
    void aTenantCannotStartABatchOnAnotherTenantsFile() {
        try (Harness h = new Harness(dir)) {
            FileObject f = upload(h.service.forTenant("acme"), LINE);
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> h.service.forTenant("globex").batches().create(f.id(), Endpoint.CHAT_COMPLETIONS));
            assertEquals("input_file_id", e.param());
            assertEquals("No such File object: " + f.id(), e.getMessage());
            assertEquals(List.of(), h.service.batches().list().data());
        }
    }

    @Test
    void batchesAndTheirResultFilesBelongToTheTenantThatCreatedThem() throws InterruptedException {
        try (Harness h = new Harness(dir)) {
            TenantScope acme = h.service.forTenant("acme");
            TenantScope globex = h.service.forTenant("globex");
            Batch b = acme.batches().create(upload(acme, LINE).id(), Endpoint.CHAT_COMPLETIONS);
            Batch done = acme.batches().await(b.id(), Duration.ofSeconds(30));
            assertEquals(BatchStatus.COMPLETED, done.status());

            assertThrows(NotFoundException.class, () -> globex.batches().get(b.id()));
            assertThrows(NotFoundException.class, () -> globex.batches().cancel(b.id()));
            assertThrows(NotFoundException.class, () -> globex.batches().await(b.id(), Duration.ZERO));
            assertThrows(NotFoundException.class, () -> globex.files().get(done.outputFileId()));
            assertEquals(List.of(), globex.batches().list().data());
            assertEquals(List.of(b.id()), acme.batches().list().data().stream().map(Batch::id).toList());
            assertEquals(FilePurpose.BATCH_OUTPUT, acme.files().get(done.outputFileId()).purpose());
            assertTrue(fileIds(acme.files()).contains(done.outputFileId()));
            // A tenant's own 409 is unchanged by scoping.
            assertThrows(ConflictException.class, () -> acme.batches().cancel(b.id()));
        }
    }

    @Test
    void aBlankTenantIsRefused() {
        try (Harness h = new Harness(dir)) {
            assertThrows(IllegalArgumentException.class, () -> h.service.forTenant(" "));
        }
    }
}
