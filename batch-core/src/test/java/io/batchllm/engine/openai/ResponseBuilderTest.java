package io.batchllm.engine.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.batchllm.spi.InferenceResult;
import io.batchllm.spi.TokenUsage;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ResponseBuilderTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private final ResponseBuilder builder = new ResponseBuilder(Clock.fixed(NOW, ZoneOffset.UTC), "fp_test");

    private static LogprobToken token(String text, float logprob) {
        return new LogprobToken(text, text.getBytes(StandardCharsets.UTF_8), logprob);
    }

    private static JsonNode parse(InferenceResult result) throws Exception {
        assertEquals(200, result.statusCode());
        return MAPPER.readTree(result.body());
    }

    private static Set<String> keys(JsonNode node) {
        return Set.copyOf(node.propertyStream().map(e -> e.getKey()).toList());
    }

    @Test
    void chatCompletionHasEveryRequiredKeyWithTheRightTypes() throws Exception {
        List<ChoiceOutput> choices = List.of(
                new ChoiceOutput("Hello!", FinishReason.STOP, 5, null),
                new ChoiceOutput("Hi", FinishReason.LENGTH, 7, null));
        InferenceResult result = builder.chatCompletion("llama-3.2-1b", 10, 4, choices);
        JsonNode root = parse(result);

        assertEquals(Set.of("id", "object", "created", "model", "choices", "usage", "system_fingerprint"), keys(root));
        assertTrue(root.get("id").textValue().startsWith("chatcmpl-"));
        assertEquals("chat.completion", root.get("object").textValue());
        assertTrue(root.get("created").isIntegralNumber());
        assertEquals(NOW.getEpochSecond(), root.get("created").longValue());
        assertEquals("llama-3.2-1b", root.get("model").textValue());
        assertEquals("fp_test", root.get("system_fingerprint").textValue());

        JsonNode second = root.get("choices").get(1);
        assertEquals(Set.of("index", "message", "logprobs", "finish_reason"), keys(second));
        assertEquals(1, second.get("index").intValue());
        assertEquals("assistant", second.get("message").get("role").textValue());
        assertEquals("Hi", second.get("message").get("content").textValue());
        assertTrue(second.get("message").get("refusal").isNull());
        assertTrue(second.get("logprobs").isNull());
        assertEquals("length", second.get("finish_reason").textValue());
        assertEquals("stop", root.get("choices").get(0).get("finish_reason").textValue());

        JsonNode usage = root.get("usage");
        assertEquals(10, usage.get("prompt_tokens").intValue(), "the prompt counts once for n > 1");
        assertEquals(12, usage.get("completion_tokens").intValue());
        assertEquals(22, usage.get("total_tokens").intValue());
        assertEquals(4, usage.get("prompt_tokens_details").get("cached_tokens").intValue());
        assertEquals(new TokenUsage(10, 12, 4), result.usage());
    }

    @Test
    void aChoiceThatCallsToolsHasToolCallsANullContentAndFinishReasonToolCalls() throws Exception {
        var call = new io.batchllm.engine.chat.ChatMessage.ToolCall("call_abc", "get_weather", "{\"city\":\"Paris\"}");
        JsonNode choices = parse(builder.chatCompletion("m", 3, 0, List.of(
                new ChoiceOutput("", FinishReason.TOOL_CALLS, 9, null, List.of(call)),
                new ChoiceOutput("Checking.", FinishReason.TOOL_CALLS, 9, null, List.of(call))))).get("choices");

        JsonNode message = choices.get(0).get("message");
        assertEquals(Set.of("role", "content", "refusal", "tool_calls"), keys(message));
        assertTrue(message.get("content").isNull());
        assertEquals(MAPPER.readTree("[{\"id\": \"call_abc\", \"type\": \"function\", \"function\": {\"name\":"
                + " \"get_weather\", \"arguments\": \"{\\\"city\\\":\\\"Paris\\\"}\"}}]"), message.get("tool_calls"));
        assertEquals("tool_calls", choices.get(0).get("finish_reason").textValue());
        assertEquals("Checking.", choices.get(1).at("/message/content").textValue(), "text before the calls");
        assertThrows(IllegalArgumentException.class, () -> new ChoiceOutput("x", FinishReason.TOOL_CALLS, 1, null),
                "tool_calls without calls");
    }

    @Test
    void chatLogprobsCarryBytesAsUnsignedIntsAndClampImpossibleTokens() throws Exception {
        LogprobEntry entry = new LogprobEntry(token("é", -0.25f),
                List.of(token("é", -0.25f), token("e", Float.NEGATIVE_INFINITY)));
        JsonNode logprobs = parse(builder.chatCompletion("m", 1, 0,
                List.of(new ChoiceOutput("é", FinishReason.LENGTH, 1, List.of(entry)))))
                .get("choices").get(0).get("logprobs");

        assertEquals(Set.of("content", "refusal"), keys(logprobs));
        assertTrue(logprobs.get("refusal").isNull());
        JsonNode position = logprobs.get("content").get(0);
        assertEquals(Set.of("token", "logprob", "bytes", "top_logprobs"), keys(position));
        assertEquals("é", position.get("token").textValue());
        assertEquals(-0.25, position.get("logprob").doubleValue());
        assertEquals("[195,169]", position.get("bytes").toString());
        JsonNode alternative = position.get("top_logprobs").get(1);
        assertEquals(Set.of("token", "logprob", "bytes"), keys(alternative));
        assertEquals(ResponseBuilder.MIN_LOGPROB, alternative.get("logprob").floatValue());
        assertEquals("[101]", alternative.get("bytes").toString());
    }

    @Test
    void textCompletionHasEveryRequiredKeyWithTheRightTypes() throws Exception {
        InferenceResult result = builder.textCompletion("m", 3, 0,
                List.of(new ChoiceOutput(" upon a", FinishReason.LENGTH, 2, null),
                        new ChoiceOutput(" time", FinishReason.STOP, 1, null)));
        JsonNode root = parse(result);
        assertEquals(Set.of("id", "object", "created", "model", "choices", "usage"), keys(root));
        assertTrue(root.get("id").textValue().startsWith("cmpl-"));
        assertEquals("text_completion", root.get("object").textValue());
        assertEquals(NOW.getEpochSecond(), root.get("created").longValue());
        JsonNode first = root.get("choices").get(0);
        assertEquals(Set.of("text", "index", "logprobs", "finish_reason"), keys(first));
        assertEquals(" upon a", first.get("text").textValue());
        assertEquals(0, first.get("index").intValue());
        assertTrue(first.get("logprobs").isNull());
        assertEquals("length", first.get("finish_reason").textValue());
        assertEquals(1, root.get("choices").get(1).get("index").intValue());
        assertEquals(3, root.get("usage").get("prompt_tokens").intValue());
        assertEquals(3, root.get("usage").get("completion_tokens").intValue());
        assertEquals(6, root.get("usage").get("total_tokens").intValue());
    }

    @Test
    void completionLogprobsUseParallelArraysAndCodePointOffsets() throws Exception {
        List<LogprobEntry> entries = List.of(
                new LogprobEntry(token(" 🙂", -0.5f), List.of(token(" 🙂", -0.5f), token(" :)", -1.5f))),
                new LogprobEntry(token("ok", -0.125f), List.of(token("ok", -0.125f), token("ok", -3f))));
        JsonNode logprobs = parse(builder.textCompletion("m", 1, 0,
                List.of(new ChoiceOutput(" 🙂ok", FinishReason.STOP, 2, entries))))
                .get("choices").get(0).get("logprobs");
        assertEquals(Set.of("tokens", "token_logprobs", "top_logprobs", "text_offset"), keys(logprobs));
        assertEquals("[\" 🙂\",\"ok\"]", logprobs.get("tokens").toString());
        assertEquals(-0.125, logprobs.get("token_logprobs").get(1).doubleValue());
        assertEquals(-1.5, logprobs.get("top_logprobs").get(0).get(" :)").doubleValue());
        assertEquals("{\"ok\":-0.125}", logprobs.get("top_logprobs").get(1).toString(),
                "of two alternatives with the same text the more likely one stays");
        // " 🙂" is two code points (three UTF-16 units)
        assertEquals("[0,2]", logprobs.get("text_offset").toString());
    }

    @Test
    void buildPicksTheShapeFromTheRequestsEndpointAndIdsDiffer() throws Exception {
        GenerationRequest chat = RequestParser.parseChat(
                "{\"model\":\"chat-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        List<ChoiceOutput> one = List.of(new ChoiceOutput("x", FinishReason.STOP, 1, null));
        JsonNode first = parse(builder.build(chat, 2, 0, one));
        JsonNode second = parse(builder.build(chat, 2, 0, one));
        assertEquals("chat.completion", first.get("object").textValue());
        assertEquals("chat-model", first.get("model").textValue());
        assertNotEquals(first.get("id"), second.get("id"));

        GenerationRequest completion = RequestParser.parseCompletion("{\"model\":\"c\",\"prompt\":\"p\"}");
        assertEquals("text_completion", parse(builder.build(completion, 2, 0, one)).get("object").textValue());
    }

    @Test
    void aResponseNeedsAChoice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder.chatCompletion("m", 1, 0, List.of()));
        assertTrue(e.getMessage().contains("at least one choice"), e.getMessage());
    }
}
