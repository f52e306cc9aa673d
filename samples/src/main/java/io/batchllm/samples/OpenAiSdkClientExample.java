package io.batchllm.samples;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Calling a BatchLLM server with the official OpenAI Java SDK, unchanged: only the base URL differs.
 * Start a server with {@code java -jar batchllm.jar serve --port 8080 --auth keys} and make a key with
 * {@code java -jar batchllm.jar keys create --tenant acme --role member}.
 */
public final class OpenAiSdkClientExample {
    private static final Set<String> TERMINAL = Set.of("completed", "failed", "expired", "cancelled");

    private OpenAiSdkClientExample() {
    }

    /** Uploads {@code requests}, runs it as a batch, waits, and copies the output file to {@code out}. */
    public static Batch run(String baseUrl, String apiKey, Path requests, OutputStream out) throws Exception {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey(apiKey).build();
        try {
            FileObject input = client.files().create(FileCreateParams.builder()
                    .file(requests)
                    .purpose(FilePurpose.BATCH)
                    .build());
            Batch batch = client.batches().create(BatchCreateParams.builder()
                    .inputFileId(input.id())
                    .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                    .completionWindow(BatchCreateParams.CompletionWindow._24H)
                    .build());
            while (!TERMINAL.contains(batch.status().asString())) {
                Thread.sleep(Duration.ofMillis(200)); // a client polls, as it would against OpenAI
                batch = client.batches().retrieve(batch.id());
            }
            if (batch.outputFileId().isPresent()) {
                try (HttpResponse content = client.files().content(batch.outputFileId().get());
                     InputStream body = content.body()) {
                    body.transferTo(out);
                }
            }
            return batch;
        } finally {
            client.close();
        }
    }

    /** Usage: OpenAiSdkClientExample BASE_URL API_KEY REQUESTS.jsonl (BASE_URL like http://127.0.0.1:8080/v1). */
    public static void main(String[] args) throws Exception {
        Batch done = run(args[0], args[1], Path.of(args[2]), System.out);
        System.err.println("batch " + done.id() + ": " + done.status().asString());
    }
}
