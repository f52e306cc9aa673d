package io.batchllm.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.spi.InferenceBackend;
import io.batchllm.spi.InferenceRequest;
import io.batchllm.spi.InferenceResult;
import io.batchllm.spi.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic backend for tests (test scope only). It answers each request from its body:
 * <ul>
 *   <li>the reply text is {@code "echo: " + the last message's content} (or the prompt), and usage
 *       counts characters: prompt = length of that text, completion = length of the reply;</li>
 *   <li>{@code "test_status": 400} (or any 4xx/5xx) fails the request with that status;</li>
 *   <li>{@code "test_throw": true} completes the future exceptionally (a backend crash);</li>
 *   <li>{@code "test_submit_error": true} makes {@link #submit} throw an {@link OutOfMemoryError} for
 *       any list of requests that holds it (an engine that ran out of memory preparing it);</li>
 *   <li>{@code "test_hold": true} holds the request until {@link #releaseHeld()}.</li>
 * </ul>
 * {@link #generatedTokens()} counts each request's completion tokens as soon as it starts, held or not.
 * {@link #zeroCost()} makes a backend that answers every request at once with a constant body, for
 * measuring the service itself.
 */
public final class TestBackend implements InferenceBackend {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Set<String> models;
    private final boolean zeroCost;
    private final int maxInFlight;
    private final AtomicInteger executed = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong generated = new java.util.concurrent.atomic.AtomicLong();
    private final ConcurrentLinkedQueue<String> executedIds = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Held> held = new ConcurrentLinkedQueue<>();
    private volatile boolean holdAll;

    private record Held(CompletableFuture<InferenceResult> future, InferenceResult result) {
    }

    public TestBackend(Set<String> models, int maxInFlight) {
        this(models, false, maxInFlight);
    }

    private TestBackend(Set<String> models, boolean zeroCost, int maxInFlight) {
        this.models = Set.copyOf(models);
        this.zeroCost = zeroCost;
        this.maxInFlight = maxInFlight;
    }

    /** Serves model {@code test-model}. */
    public static TestBackend standard() {
        return new TestBackend(Set.of("test-model"), 64);
    }

    /** Answers everything at once with a constant body; serves {@code test-model}. */
    public static TestBackend zeroCost(int maxInFlight) {
        return new TestBackend(Set.of("test-model"), true, maxInFlight);
    }

    private static final String CONSTANT_BODY = "{\"id\":\"chatcmpl-0\",\"object\":\"chat.completion\",\"created\":0,"
            + "\"model\":\"test-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\","
            + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
    private static final TokenUsage CONSTANT_USAGE = new TokenUsage(1, 1, 0);

    @Override
    public Set<String> models() {
        return models;
    }

    @Override
    public Set<String> endpoints() {
        return Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings");
    }

    @Override
    public int maxInFlight() {
        return maxInFlight;
    }

    /** Holds every request from now on until {@link #releaseHeld()} (or {@link #holdAll(boolean) false}). */
    public void holdAll(boolean hold) {
        this.holdAll = hold;
        if (!hold) {
            releaseHeld();
        }
    }

    /** Completes every held request. */
    public void releaseHeld() {
        Held h;
        while ((h = held.poll()) != null) {
            h.future.complete(h.result);
        }
    }

    /** Requests held now. */
    public int heldCount() {
        return held.size();
    }

    @Override
    public long generatedTokens() {
        return generated.get();
    }

    /** Requests executed (answered or held) since creation. */
    public int executed() {
        return executed.get();
    }

    /** Ids ({@code batchId#line}) of executed requests, in order. */
    public List<String> executedIds() {
        return new ArrayList<>(executedIds);
    }

    @Override
    public List<CompletableFuture<InferenceResult>> submit(List<InferenceRequest> requests) {
        List<CompletableFuture<InferenceResult>> out = new ArrayList<>(requests.size());
        for (InferenceRequest r : requests) {
            if (r.body().contains("\"test_submit_error\":true")) {
                throw new OutOfMemoryError("test backend: out of memory preparing " + r.requestId());
            }
        }
        for (InferenceRequest r : requests) {
            executed.incrementAndGet();
            if (zeroCost) {
                out.add(CompletableFuture.completedFuture(new InferenceResult(200, CONSTANT_BODY, CONSTANT_USAGE)));
                continue;
            }
            executedIds.add(r.requestId());
            out.add(answer(r));
        }
        return out;
    }

    private CompletableFuture<InferenceResult> answer(InferenceRequest r) {
        try {
            JsonNode body = JSON.readTree(r.body());
            if (body.path("test_throw").asBoolean(false)) {
                return CompletableFuture.failedFuture(new IllegalStateException("test backend crash"));
            }
            int status = body.path("test_status").asInt(200);
            InferenceResult result = status != 200
                    ? InferenceResult.error(status, status >= 500 ? "server_error" : "invalid_request_error",
                    "test_error", null, "test failure " + status)
                    : ok(r, body);
            generated.addAndGet(result.usage().completionTokens());
            if (holdAll || body.path("test_hold").asBoolean(false)) {
                CompletableFuture<InferenceResult> f = new CompletableFuture<>();
                held.add(new Held(f, result));
                return f;
            }
            return CompletableFuture.completedFuture(result);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static InferenceResult ok(InferenceRequest r, JsonNode body) {
        String input;
        JsonNode messages = body.path("messages");
        if (messages.isArray() && !messages.isEmpty()) {
            input = messages.get(messages.size() - 1).path("content").asText("");
        } else {
            input = body.path("prompt").asText("");
        }
        String reply = "echo: " + input;
        ObjectNode resp = JSON.createObjectNode();
        boolean chat = r.url().equals("/v1/chat/completions");
        resp.put("id", (chat ? "chatcmpl-" : "cmpl-") + r.requestId().hashCode());
        resp.put("object", chat ? "chat.completion" : "text_completion");
        resp.put("created", 0);
        resp.put("model", r.model());
        ObjectNode choice = resp.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", reply);
            msg.putNull("refusal");
        } else {
            choice.put("text", reply);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", "stop");
        ObjectNode usage = resp.putObject("usage");
        usage.put("prompt_tokens", input.length());
        usage.put("completion_tokens", reply.length());
        usage.put("total_tokens", input.length() + reply.length());
        return InferenceResult.ok(resp.toString(), new TokenUsage(input.length(), reply.length(), 0));
    }
}
