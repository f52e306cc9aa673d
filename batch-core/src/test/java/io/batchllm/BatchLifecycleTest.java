package io.batchllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.batchllm.testing.Harness;
import io.batchllm.testing.Jsonl;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void aBatchRunsEveryLineAndWritesTheOutputFile() throws Exception {
        try (Harness h = new Harness(dir)) {
            Batch done = h.run(Jsonl.chatLines(50));
            assertEquals(BatchStatus.COMPLETED, done.status());
            assertEquals(new RequestCounts(50, 50, 0), done.requestCounts());
            assertEquals("test-model", done.model());
            assertNotNull(done.inProgressAt());
            assertNotNull(done.finalizingAt());
            assertNotNull(done.completedAt());
            assertNull(done.errorFileId(), "no line failed, so there is no error file (B15)");
            List<JsonNode> out = h.lines(done.outputFileId());
            assertEquals(50, out.size());
            Set<String> ids = new HashSet<>();
            for (JsonNode line : out) {
                ids.add(line.get("custom_id").asText());
                assertTrue(line.get("id").asText().startsWith("batch_req_"));
                assertEquals(200, line.at("/response/status_code").asInt());
                assertTrue(line.at("/response/request_id").asText().startsWith("req_"));
                assertEquals("chat.completion", line.at("/response/body/object").asText());
                assertTrue(line.get("error").isNull());
            }
            assertEquals(50, ids.size());
            String sample = out.stream().filter(l -> l.get("custom_id").asText().equals("req-7")).findFirst()
                    .orElseThrow().at("/response/body/choices/0/message/content").asText();
            assertEquals("echo: hello 7", sample);
        }
    }

    @Test
    void anErrorPreparingOneRequestFailsThatRequestAloneAndTheWorkerGoesOn() throws Exception {
        // Regression: an OutOfMemoryError from the backend killed the batchllm-dispatcher thread; no
        // request of any batch ran again, and the service still called itself ready.
        try (Harness h = new Harness(dir)) {
            Batch done = h.run(Jsonl.chatLines(5) + Jsonl.chatLine("poison", "x", "\"test_submit_error\":true") + "\n");
            assertEquals(BatchStatus.COMPLETED, done.status(), done::toString);
            assertEquals(new RequestCounts(6, 5, 1), done.requestCounts());
            JsonNode failed = h.lines(done.errorFileId()).getFirst();
            assertEquals("poison", failed.get("custom_id").asText());
            assertEquals(500, failed.at("/response/status_code").asInt());
            assertTrue(failed.at("/response/body/error/message").asText().contains("OutOfMemoryError"), failed::toString);
            assertEquals(List.of(), h.service.problems());

            Batch next = h.run(Jsonl.chatLines(3));
            assertEquals(new RequestCounts(3, 3, 0), next.requestCounts(), "the worker still runs requests");
        }
    }
}
