package io.batchllm.engine.openai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.batchllm.engine.chat.ChatMessage;
import io.batchllm.engine.sampling.SamplingParams;
import io.batchllm.spi.InferenceResult;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class RequestParserTest {
    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** JSON with single quotes, to keep the tables readable. */
    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    /** A valid chat body with {@code extra} fields added (no leading comma). */
    private static String chat(String extra) {
        return json("{'model':'m','messages':[{'role':'user','content':'hi'}]" + (extra.isEmpty() ? "" : "," + extra) + "}");
    }

    private static String completion(String extra) {
        return json("{'model':'m','prompt':'Once'" + (extra.isEmpty() ? "" : "," + extra) + "}");
    }

    @Test
    void aMinimalChatBodyGetsTheDefaults() {
        GenerationRequest request = RequestParser.parseChat(chat(""));
        assertEquals(Endpoint.CHAT_COMPLETIONS, request.endpoint());
        assertEquals("m", request.model());
        assertEquals(new Prompt.Chat(List.of(new ChatMessage("user", "hi"))), request.prompt());
        SamplingParams p = request.sampling();
        assertNull(p.maxTokens(), "chat generates until the context ends by default");
        assertEquals(1.0, p.temperature());
        assertEquals(1.0, p.topP());
        assertEquals(1, p.n());
        assertNull(p.seed());
        assertEquals(List.of(), p.stop());
        assertFalse(p.logprobs());
    }

    @Test
    void chatMessagesAreNormalized() {
        GenerationRequest request = RequestParser.parseChat(json("{'model':'m','messages':["
                + "{'role':'developer','content':'be brief'},"
                + "{'role':'user','name':'ann','content':[{'type':'text','text':'part one'},{'type':'text','text':'part two'}]},"
                + "{'role':'assistant','content':null},"
                + "{'role':'tool','tool_call_id':'call_1','content':'42'}]}"));
        assertEquals(List.of(new ChatMessage("system", "be brief"),
                new ChatMessage("user", "part one\npart two", "ann", null, List.of()),
                new ChatMessage("assistant", ""), new ChatMessage("tool", "42", null, "call_1", List.of())),
                ((Prompt.Chat) request.prompt()).messages());
    }

    /** Regression: tool_call_id was required and then dropped, and tool_calls were refused. */
    @Test
    void earlierToolCallsAndTheirResultsReachTheTemplate() {
        GenerationRequest request = RequestParser.parseChat(json("{'model':'m','messages':["
                + "{'role':'user','content':'Weather?'},"
                + "{'role':'assistant','content':null,'tool_calls':[{'id':'call_1','type':'function',"
                + "'function':{'name':'get_weather','arguments':'{\\\"city\\\": \\\"Paris\\\"}'}}]},"
                + "{'role':'tool','tool_call_id':'call_1','content':'22C'},"
                + "{'role':'assistant','tool_calls':[]}]}"));

        assertEquals(List.of(new ChatMessage("user", "Weather?"),
                new ChatMessage("assistant", null, null, null,
                        List.of(new ChatMessage.ToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}"))),
                new ChatMessage("tool", "22C", null, "call_1", List.of()), new ChatMessage("assistant", "")),
                ((Prompt.Chat) request.prompt()).messages());
    }

    @Test
    void everySamplingFieldIsRead() {
        SamplingParams p = RequestParser.parseChat(chat("'max_tokens':5,'max_completion_tokens':7,'temperature':0.2,"
                + "'top_p':0.9,'top_k':40,'min_p':0.05,'seed':-9007199254740993,'stop':['a','b'],'n':3,"
                + "'presence_penalty':-1.5,'frequency_penalty':2,'logit_bias':{'15':-100,'0':2.5},"
                + "'logprobs':true,'top_logprobs':20,'user':'u','metadata':{'k':'v'},'store':false,"
                + "'response_format':{'type':'text'},'tools':[],'tool_choice':'none','stream':false,"
                + "'modalities':['text'],'repetition_penalty':1.15,'min_tokens':2,'ignore_eos':true,"
                + "'stop_token_ids':[2,7],'skip_special_tokens':true,'prompt_cache_key':'k','service_tier':'auto',"
                + "'safety_identifier':'s','parallel_tool_calls':false")).sampling();
        assertEquals(7, p.maxTokens(), "max_completion_tokens wins over max_tokens");
        assertEquals(0.2, p.temperature());
        assertEquals(0.9, p.topP());
        assertEquals(40, p.topK());
        assertEquals(0.05, p.minP());
        assertEquals(-9007199254740993L, p.seed());
        assertEquals(List.of("a", "b"), p.stop());
        assertEquals(3, p.n());
        assertEquals(-1.5, p.presencePenalty());
        assertEquals(2.0, p.frequencyPenalty());
        assertEquals(Map.of(15, -100f, 0, 2.5f), p.logitBias());
        assertTrue(p.logprobs());
        assertEquals(20, p.topLogprobs());
        assertEquals(1.15, p.repetitionPenalty());
        assertEquals(2, p.minTokens());
        assertTrue(p.ignoreEos());
        assertEquals(List.of(2, 7), p.stopTokenIds());
    }

    @Test
    void vllmSamplingExtensionsAreReadOnCompletionsTooAndTopKMinusOneIsOff() {
        SamplingParams p = RequestParser.parseCompletion(completion("'top_k':-1,'min_p':0.1,'repetition_penalty':0.9,"
                + "'min_tokens':16,'ignore_eos':false,'stop_token_ids':[],'skip_special_tokens':true")).sampling();
        assertEquals(0, p.topK(), "vLLM's -1 means no top-k");
        assertEquals(0.1, p.minP());
        assertEquals(0.9, p.repetitionPenalty());
        assertEquals(16, p.minTokens(), "up to the default max_tokens of 16");
        assertFalse(p.ignoreEos());
        assertEquals(List.of(), p.stopTokenIds());
        SamplingParams defaults = RequestParser.parseCompletion(completion("")).sampling();
        assertEquals(1.0, defaults.repetitionPenalty());
        assertEquals(0, defaults.minTokens());
    }

    static Stream<Arguments> unknownFields() {
        Endpoint chat = Endpoint.CHAT_COMPLETIONS;
        Endpoint completions = Endpoint.COMPLETIONS;
        return Stream.of(
                Arguments.of(chat, chat("'max_token':32"), "max_token", "(did you mean max_tokens?)"),
                Arguments.of(chat, chat("'temprature':0.5"), "temprature", "(did you mean temperature?)"),
                Arguments.of(chat, chat("'some_future_field':{'x':1}"), "some_future_field", "/v1/chat/completions takes "),
                Arguments.of(chat, chat("'prompt':'x'"), "prompt", "/v1/chat/completions takes "),
                Arguments.of(completions, completion("'max_token':32"), "max_token", "(did you mean max_tokens?)"),
                Arguments.of(completions, completion("'messages':[]"), "messages", "/v1/completions takes "),
                Arguments.of(completions, completion("'metadata':{'k':'v'}"), "metadata", "/v1/completions takes "),
                Arguments.of(completions, completion("'frequency_penality':1"), "frequency_penality",
                        "(did you mean frequency_penalty?)"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("unknownFields")
    void anUnknownFieldIsA400NamingItAndTheClosestKnownOne(Endpoint endpoint, String body, String field,
            String message) {
        RequestException e = assertThrows(RequestException.class, () -> RequestParser.parse(endpoint, body));
        assertEquals(field, e.param());
        assertEquals("unknown_parameter", e.code());
        assertTrue(e.getMessage().startsWith("Unrecognized request argument supplied: " + field), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void everyFieldOfOpenAisRequestSchemasIsKnown() {
        // the properties of CreateChatCompletionRequest and CreateCompletionRequest in
        // shared/openai-openapi/openapi.yaml; each may be refused for its value, never as unknown
        List<String> chatFields = List.of("audio", "frequency_penalty", "function_call", "functions", "logit_bias",
                "logprobs", "max_completion_tokens", "max_tokens", "messages", "metadata", "modalities", "model",
                "moderation", "n", "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key",
                "prompt_cache_options", "prompt_cache_retention", "reasoning_effort", "response_format",
                "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
                "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options");
        List<String> completionFields = List.of("best_of", "echo", "frequency_penalty", "logit_bias", "logprobs",
                "max_tokens", "model", "n", "presence_penalty", "prompt", "seed", "stop", "stream", "stream_options",
                "suffix", "temperature", "top_p", "user");
        for (String field : chatFields) {
            assertKnown(Endpoint.CHAT_COMPLETIONS, chat(""), field);
        }
        for (String field : completionFields) {
            assertKnown(Endpoint.COMPLETIONS, completion(""), field);
        }
    }

    /** Parses {@code base} with {@code field} set to an object: a wrong value may be refused, the field not. */
    private static void assertKnown(Endpoint endpoint, String base, String field) {
        try {
            var body = (com.fasterxml.jackson.databind.node.ObjectNode) MAPPER.readTree(base);
            body.putObject(field).put("x", 1);
            RequestParser.parse(endpoint, body.toString());
        } catch (RequestException e) {
            assertNotEquals("unknown_parameter", e.code(), field + " is an OpenAI field: " + e.getMessage());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aVllmExtensionTheEngineDoesNotImplementIsRefusedAsSuch() {
        RequestException e = assertThrows(RequestException.class,
                () -> RequestParser.parseChat(chat("'use_beam_search':true")));
        assertEquals("use_beam_search", e.param());
        assertEquals("unsupported_parameter", e.code());
        assertTrue(e.getMessage().contains("use_beam_search (a vLLM extension) is not supported by this engine"),
                e.getMessage());
        assertTrue(e.getMessage().contains("repetition_penalty"), "it lists the extensions that are: " + e.getMessage());
    }

    @Test
    void aSingleStopStringBecomesAList() {
        assertEquals(List.of("\n"), RequestParser.parseChat(chat("'stop':'\\n'")).sampling().stop());
        assertEquals(5, RequestParser.parseChat(chat("'max_tokens':5")).sampling().maxTokens());
    }

    @Test
    void completionPromptsInEveryAcceptedShape() {
        assertEquals(new Prompt.Text("Once"), RequestParser.parseCompletion(completion("")).prompt());
        assertEquals(new Prompt.Text("Solo"), RequestParser.parseCompletion(json("{'model':'m','prompt':['Solo']}")).prompt());
        assertEquals(new Prompt.Text(""), RequestParser.parseCompletion(json("{'model':'m','prompt':''}")).prompt());
        Prompt tokens = RequestParser.parseCompletion(json("{'model':'m','prompt':[1,2,3]}")).prompt();
        assertArrayEquals(new int[] {1, 2, 3}, ((Prompt.Tokens) tokens).ids());
        Prompt nested = RequestParser.parseCompletion(json("{'model':'m','prompt':[[4,5]]}")).prompt();
        assertEquals(new Prompt.Tokens(new int[] {4, 5}), nested);
    }

    @Test
    void completionDefaultsAndLogprobs() {
        GenerationRequest request = RequestParser.parseCompletion(completion(""));
        assertEquals(Endpoint.COMPLETIONS, request.endpoint());
        assertEquals(SamplingParams.DEFAULT_COMPLETIONS_MAX_TOKENS, request.sampling().maxTokens());
        assertFalse(request.sampling().logprobs());
        SamplingParams p = RequestParser.parseCompletion(completion("'logprobs':3,'echo':false,'best_of':1,'suffix':null"))
                .sampling();
        assertTrue(p.logprobs());
        assertEquals(3, p.topLogprobs());
        SamplingParams zero = RequestParser.parseCompletion(completion("'logprobs':0")).sampling();
        assertTrue(zero.logprobs(), "logprobs 0 still reports the chosen token's logprob");
        assertEquals(0, zero.topLogprobs());
    }

    @Test
    void parseDispatchesOnTheEndpoint() {
        assertEquals(Endpoint.COMPLETIONS, RequestParser.parse(Endpoint.COMPLETIONS, completion("")).endpoint());
        assertEquals(Endpoint.CHAT_COMPLETIONS, RequestParser.parse(Endpoint.CHAT_COMPLETIONS, chat("")).endpoint());
        assertEquals(Endpoint.COMPLETIONS, Endpoint.fromPath("/v1/completions").orElseThrow());
        assertTrue(Endpoint.fromPath("/v1/embeddings").isEmpty());
    }

    static Stream<Arguments> invalidChatBodies() {
        return Stream.of(
                Arguments.of("not json", "{", null, "invalid_json", "not valid JSON"),
                Arguments.of("trailing garbage", "{\"model\":\"m\"} x", null, "invalid_json", "not valid JSON"),
                Arguments.of("array body", "[]", null, "invalid_type", "must be a JSON object"),
                Arguments.of("missing model", json("{'messages':[{'role':'user','content':'hi'}]}"),
                        "model", "missing_required_parameter", "missing required parameter model"),
                Arguments.of("model not a string", json("{'model':3,'messages':[]}"), "model", "invalid_type",
                        "model must be a string, got an integer (3)"),
                Arguments.of("missing messages", json("{'model':'m'}"), "messages", "missing_required_parameter",
                        "messages"),
                Arguments.of("empty messages", json("{'model':'m','messages':[]}"), "messages", "empty_array",
                        "at least one message"),
                Arguments.of("messages not an array", json("{'model':'m','messages':'hi'}"), "messages",
                        "invalid_type", "messages must be an array of messages, got a string"),
                Arguments.of("message not an object", json("{'model':'m','messages':['hi']}"), "messages[0]",
                        "invalid_type", "messages[0] must be a message object"),
                Arguments.of("unknown role", json("{'model':'m','messages':[{'role':'bot','content':'x'}]}"),
                        "messages[0].role", "invalid_value", "must be one of developer, system, user, assistant, tool, got \"bot\""),
                Arguments.of("user without content", json("{'model':'m','messages':[{'role':'user'}]}"),
                        "messages[0].content", "missing_required_parameter", "messages[0].content"),
                Arguments.of("content a number", json("{'model':'m','messages':[{'role':'user','content':5}]}"),
                        "messages[0].content", "invalid_type", "a string or an array of text parts"),
                Arguments.of("image part", json("{'model':'m','messages':[{'role':'user','content':[{'type':'text','text':'a'},"
                        + "{'type':'image_url','image_url':{'url':'x'}}]}]}"),
                        "messages[0].content[1].type", "unsupported_value", "\"image_url\" is not supported"),
                Arguments.of("audio part", json("{'model':'m','messages':[{'role':'user','content':[{'type':'input_audio'}]}]}"),
                        "messages[0].content[0].type", "unsupported_value", "input_audio"),
                Arguments.of("unknown part", json("{'model':'m','messages':[{'role':'user','content':[{'type':'blob'}]}]}"),
                        "messages[0].content[0].type", "invalid_value", "must be \"text\", got \"blob\""),
                Arguments.of("text part without text", json("{'model':'m','messages':[{'role':'user','content':[{'type':'text'}]}]}"),
                        "messages[0].content[0].text", "missing_required_parameter", "text"),
                Arguments.of("tool without id", json("{'model':'m','messages':[{'role':'tool','content':'1'}]}"),
                        "messages[0].tool_call_id", "missing_required_parameter", "tool_call_id"),
                Arguments.of("tool call without type", json("{'model':'m','messages':[{'role':'assistant','tool_calls':[{'id':'c'}]}]}"),
                        "messages[0].tool_calls[0].type", "missing_required_parameter", "tool_calls[0].type"),
                Arguments.of("tool call of another type", json("{'model':'m','messages':[{'role':'assistant','tool_calls':"
                        + "[{'id':'c','type':'custom','function':{'name':'f','arguments':'{}'}}]}]}"),
                        "messages[0].tool_calls[0].type", "invalid_value", "must be \"function\", got \"custom\""),
                Arguments.of("tool call without function", json("{'model':'m','messages':[{'role':'assistant','tool_calls':"
                        + "[{'id':'c','type':'function'}]}]}"),
                        "messages[0].tool_calls[0].function", "missing_required_parameter", "name and arguments"),
                Arguments.of("tool call arguments not a string", json("{'model':'m','messages':[{'role':'assistant',"
                        + "'tool_calls':[{'id':'c','type':'function','function':{'name':'f','arguments':{}}}]}]}"),
                        "messages[0].tool_calls[0].function.arguments", "invalid_type", "must be a string"),
                Arguments.of("tool call with an unknown field", json("{'model':'m','messages':[{'role':'assistant',"
                        + "'tool_calls':[{'id':'c','type':'function','index':0,'function':{'name':'f','arguments':'{}'}}]}]}"),
                        "messages[0].tool_calls[0].index", "unknown_parameter", "a tool call has only function, id, type"),
                Arguments.of("tool calls not an array", json("{'model':'m','messages':[{'role':'assistant','tool_calls':{}}]}"),
                        "messages[0].tool_calls", "invalid_type", "an array of tool calls"),
                Arguments.of("deprecated function call", json("{'model':'m','messages':[{'role':'assistant','content':'',"
                        + "'function_call':{'name':'f','arguments':'{}'}}]}"),
                        "messages[0].function_call", "unsupported_parameter", "send the call as tool_calls"),
                Arguments.of("name not a string", json("{'model':'m','messages':[{'role':'user','name':1,'content':'x'}]}"),
                        "messages[0].name", "invalid_type", "must be a string"),
                Arguments.of("temperature too high", chat("'temperature':3.5"), "temperature", "decimal_above_max_value",
                        "temperature must be between 0 and 2, got 3.5"),
                Arguments.of("temperature negative", chat("'temperature':-1"), "temperature", "decimal_below_min_value",
                        "temperature must be between 0 and 2, got -1"),
                Arguments.of("temperature a string", chat("'temperature':'hot'"), "temperature", "invalid_type",
                        "temperature must be a number, got a string (\"hot\")"),
                Arguments.of("top_p too high", chat("'top_p':1.5"), "top_p", "decimal_above_max_value",
                        "top_p must be between 0 and 1, got 1.5"),
                Arguments.of("top_k below -1", chat("'top_k':-2"), "top_k", "integer_below_min_value",
                        "top_k must be at least -1, got -2"),
                Arguments.of("min_p too high", chat("'min_p':2"), "min_p", "decimal_above_max_value",
                        "min_p must be between 0 and 1, got 2"),
                Arguments.of("n zero", chat("'n':0"), "n", "integer_below_min_value", "n must be between 1 and 128, got 0"),
                Arguments.of("n too large", chat("'n':129"), "n", "integer_above_max_value", "n must be between 1 and 128, got 129"),
                Arguments.of("n a decimal", chat("'n':1.5"), "n", "invalid_type", "n must be an integer, got a decimal number (1.5)"),
                Arguments.of("max_tokens zero", chat("'max_tokens':0"), "max_tokens", "integer_below_min_value",
                        "max_tokens must be at least 1, got 0"),
                Arguments.of("max_tokens a string", chat("'max_tokens':'10'"), "max_tokens", "invalid_type",
                        "max_tokens must be an integer"),
                Arguments.of("max_tokens huge", chat("'max_tokens':99999999999"), "max_tokens", "integer_above_max_value",
                        "max_tokens must be at least 1, got 99999999999"),
                Arguments.of("max_completion_tokens negative", chat("'max_completion_tokens':-5"), "max_completion_tokens",
                        "integer_below_min_value", "max_completion_tokens must be at least 1, got -5"),
                Arguments.of("seed a decimal", chat("'seed':1.5"), "seed", "invalid_type", "seed must be an integer"),
                Arguments.of("seed beyond int64", chat("'seed':99999999999999999999999"), "seed", "integer_above_max_value",
                        "seed must be a 64-bit integer"),
                Arguments.of("five stops", chat("'stop':['a','b','c','d','e']"), "stop", "array_above_max_length",
                        "stop may hold at most 4 strings, got 5"),
                Arguments.of("empty stop", chat("'stop':''"), "stop", "invalid_value", "stop must not be an empty string"),
                Arguments.of("stop not a string", chat("'stop':['a',1]"), "stop[1]", "invalid_type", "stop[1] must be a string"),
                Arguments.of("stop an object", chat("'stop':{}"), "stop", "invalid_type", "a string or an array of up to 4 strings"),
                Arguments.of("presence_penalty too high", chat("'presence_penalty':2.5"), "presence_penalty",
                        "decimal_above_max_value", "presence_penalty must be between -2 and 2, got 2.5"),
                Arguments.of("frequency_penalty too low", chat("'frequency_penalty':-3"), "frequency_penalty",
                        "decimal_below_min_value", "frequency_penalty must be between -2 and 2, got -3"),
                Arguments.of("logit_bias bad key", chat("'logit_bias':{'abc':1}"), "logit_bias", "invalid_value",
                        "logit_bias keys must be token ids"),
                Arguments.of("logit_bias negative key", chat("'logit_bias':{'-1':1}"), "logit_bias", "invalid_value",
                        "got \"-1\""),
                Arguments.of("logit_bias too large", chat("'logit_bias':{'5':150}"), "logit_bias", "decimal_above_max_value",
                        "logit_bias[\"5\"] must be between -100 and 100, got 150"),
                Arguments.of("logit_bias value a string", chat("'logit_bias':{'5':'x'}"), "logit_bias", "invalid_type",
                        "values are numbers"),
                Arguments.of("logit_bias an array", chat("'logit_bias':[]"), "logit_bias", "invalid_type",
                        "logit_bias must be an object"),
                Arguments.of("logprobs an int on chat", chat("'logprobs':1"), "logprobs", "invalid_type",
                        "logprobs must be a boolean"),
                Arguments.of("top_logprobs without logprobs", chat("'top_logprobs':3"), "top_logprobs", "invalid_value",
                        "top_logprobs requires logprobs to be true"),
                Arguments.of("top_logprobs too large", chat("'logprobs':true,'top_logprobs':21"), "top_logprobs",
                        "integer_above_max_value", "top_logprobs must be between 0 and 20, got 21"),
                Arguments.of("stream", chat("'stream':true"), "stream", "unsupported_value",
                        "stream is not supported in batch requests"),
                Arguments.of("stream a string", chat("'stream':'yes'"), "stream", "invalid_type", "stream must be a boolean"),
                Arguments.of("tools not an array", chat("'tools':{'type':'function'}"), "tools", "invalid_type",
                        "tools must be an array of tools"),
                Arguments.of("tool of another type", chat("'tools':[{'type':'code_interpreter'}]"), "tools[0].type",
                        "invalid_value", "must be \"function\""),
                Arguments.of("tool with an unknown key", chat("'tools':[{'type':'function','function':{'name':'f'},"
                        + "'x':1}]"), "tools[0].x", "invalid_value", "tools[0] takes function, type"),
                Arguments.of("function with an unknown key", chat("'tools':[{'type':'function','function':{'name':'f',"
                        + "'params':{}}}]"), "tools[0].function.params", "invalid_value",
                        "takes description, name, parameters, strict"),
                Arguments.of("function without a name", chat("'tools':[{'type':'function','function':{}}]"),
                        "tools[0].function.name", "missing_required_parameter", "tools[0].function.name"),
                Arguments.of("function with a bad name", chat("'tools':[{'type':'function','function':{'name':'a b'}}]"),
                        "tools[0].function.name", "invalid_value", "letters, digits, underscores or dashes"),
                Arguments.of("two functions of one name", chat("'tools':[{'type':'function','function':{'name':'f'}},"
                        + "{'type':'function','function':{'name':'f'}}]"), "tools[1].function.name", "invalid_value",
                        "names must be unique"),
                Arguments.of("parameters not an object", chat("'tools':[{'type':'function','function':{'name':'f',"
                        + "'parameters':[]}}]"), "tools[0].function.parameters", "invalid_type", "a JSON Schema object"),
                Arguments.of("tool_choice without tools", chat("'tool_choice':'auto'"), "tool_choice", "invalid_value",
                        "tool_choice is only allowed with tools"),
                Arguments.of("tool_choice unknown", chat("'tools':[{'type':'function','function':{'name':'f'}}],"
                        + "'tool_choice':'always'"), "tool_choice", "invalid_value", "must be \"none\", \"auto\""),
                Arguments.of("tool_choice names no tool", chat("'tools':[{'type':'function','function':{'name':'f'}}],"
                        + "'tool_choice':{'type':'function','function':{'name':'g'}}"), "tool_choice.function.name",
                        "invalid_value", "names the function \"g\", which is not among the tools (f)"),
                Arguments.of("tools and response_format", chat("'tools':[{'type':'function','function':{'name':'f'}}],"
                        + "'response_format':{'type':'json_object'}"), "response_format", "invalid_value",
                        "response_format cannot be combined with tools"),
                Arguments.of("forced calls and ignore_eos", chat("'tools':[{'type':'function','function':{'name':'f'}}],"
                        + "'tool_choice':'required','ignore_eos':true"), "ignore_eos", "invalid_value",
                        "ignore_eos cannot be combined with tool_choice"),
                Arguments.of("parallel_tool_calls not a boolean", chat("'parallel_tool_calls':'yes'"),
                        "parallel_tool_calls", "invalid_type", "parallel_tool_calls must be a boolean"),
                Arguments.of("functions", chat("'functions':[{'name':'f'}]"), "functions", "unsupported_parameter",
                        "functions (OpenAI's deprecated function calling) is not supported; send the functions as tools"),
                Arguments.of("function_call", chat("'function_call':'auto'"), "function_call", "unsupported_parameter",
                        "function_call (OpenAI's deprecated function calling) is not supported"),
                Arguments.of("audio", chat("'audio':{'voice':'alloy','format':'wav'}"), "audio", "unsupported_parameter",
                        "audio is not supported"),
                Arguments.of("modalities with audio", chat("'modalities':['text','audio']"), "modalities",
                        "unsupported_value", "modalities may only contain \"text\""),
                Arguments.of("prediction", chat("'prediction':{'type':'content','content':'x'}"), "prediction",
                        "unsupported_parameter", "prediction is not supported"),
                Arguments.of("response_format type unknown", chat("'response_format':{'type':'yaml'}"),
                        "response_format.type", "invalid_value", "must be one of text, json_object, json_schema"),
                Arguments.of("response_format not an object", chat("'response_format':'json'"), "response_format",
                        "invalid_type", "response_format must be an object"),
                Arguments.of("response_format unknown key", chat("'response_format':{'type':'json_object','schema':{}}"),
                        "response_format.schema", "invalid_value", "response_format takes json_schema, type"),
                Arguments.of("json_schema unknown key",
                        chat("'response_format':{'type':'json_schema','json_schema':{'name':'x','schemas':{}}}"),
                        "response_format.json_schema.schemas", "invalid_value",
                        "takes description, name, schema, strict"),
                Arguments.of("json_schema without name",
                        chat("'response_format':{'type':'json_schema','json_schema':{'schema':{}}}"),
                        "response_format.json_schema.name", "missing_required_parameter", "json_schema.name"),
                Arguments.of("json_schema bad name",
                        chat("'response_format':{'type':'json_schema','json_schema':{'name':'a b'}}"),
                        "response_format.json_schema.name", "invalid_value", "letters, digits, underscores or dashes"),
                Arguments.of("json_schema missing",
                        chat("'response_format':{'type':'json_schema'}"),
                        "response_format.json_schema", "missing_required_parameter", "json_schema"),
                Arguments.of("json_schema on json_object",
                        chat("'response_format':{'type':'json_object','json_schema':{'name':'x'}}"),
                        "response_format.json_schema", "invalid_value", "only for type \"json_schema\""),
                Arguments.of("unsupported schema keyword", chat("'response_format':{'type':'json_schema','json_schema':"
                        + "{'name':'x','schema':{'type':'array','items':{'type':'string'},'uniqueItems':true}}}"),
                        "response_format.json_schema.schema", "invalid_schema",
                        "the schema at # uses the keyword 'uniqueItems', which is not supported"),
                Arguments.of("unknown schema keyword", chat("'response_format':{'type':'json_schema','json_schema':"
                        + "{'name':'x','schema':{'type':'object','properties':{'a':{'type':'string','fromat':'date'}}}}}"),
                        "response_format.json_schema.schema", "invalid_schema",
                        "#/properties/a uses the unknown keyword 'fromat'"),
                Arguments.of("guided_json unsupported keyword", chat("'guided_json':{'type':'integer','multipleOf':3}"),
                        "guided_json", "invalid_schema", "'multipleOf'"),
                Arguments.of("guided_json text that is not JSON", chat("'guided_json':'{nope'"), "guided_json",
                        "invalid_value", "guided_json is a string that is not JSON"),
                Arguments.of("guided_choice empty", chat("'guided_choice':[]"), "guided_choice", "invalid_type",
                        "a non-empty array of strings"),
                Arguments.of("guided_choice with a number", chat("'guided_choice':['a',1]"), "guided_choice",
                        "invalid_value", "guided_choice[1] must be a non-empty string"),
                Arguments.of("guided_regex with lookahead", chat("'guided_regex':'a(?!b)'"), "guided_regex",
                        "invalid_regex", "lookaround"),
                Arguments.of("two constraints", chat("'response_format':{'type':'json_object'},'guided_regex':'a+'"),
                        "guided_regex", "invalid_value", "has response_format and guided_regex; keep one"),
                Arguments.of("ignore_eos with a constraint", chat("'guided_choice':['a'],'ignore_eos':true"),
                        "ignore_eos", "invalid_value", "ignore_eos cannot be combined with guided_choice"),
                Arguments.of("min_tokens with a constraint",
                        chat("'response_format':{'type':'json_object'},'min_tokens':3"), "min_tokens", "invalid_value",
                        "min_tokens cannot be combined with response_format"),
                Arguments.of("guided_grammar", chat("'guided_grammar':'root'"), "guided_grammar",
                        "unsupported_parameter", "guided_grammar (a vLLM extension) is not supported"),
                Arguments.of("stream_options", chat("'stream_options':{'include_usage':true}"), "stream_options",
                        "invalid_value", "stream_options is only allowed when stream is true"),
                Arguments.of("reasoning_effort", chat("'reasoning_effort':'low'"), "reasoning_effort",
                        "unsupported_parameter", "reasoning_effort is not supported"),
                Arguments.of("repetition_penalty zero", chat("'repetition_penalty':0"), "repetition_penalty",
                        "decimal_below_min_value", "repetition_penalty must be greater than 0 (1 means no penalty), got 0"),
                Arguments.of("repetition_penalty a string", chat("'repetition_penalty':'x'"), "repetition_penalty",
                        "invalid_type", "repetition_penalty must be a number"),
                Arguments.of("min_tokens over max_tokens", chat("'max_tokens':4,'min_tokens':5"), "min_tokens",
                        "invalid_value", "min_tokens (5) must not exceed max_tokens (4)"),
                Arguments.of("min_tokens negative", chat("'min_tokens':-1"), "min_tokens", "integer_below_min_value",
                        "min_tokens must be at least 0"),
                Arguments.of("ignore_eos a string", chat("'ignore_eos':'yes'"), "ignore_eos", "invalid_type",
                        "ignore_eos must be a boolean"),
                Arguments.of("stop_token_ids not an array", chat("'stop_token_ids':5"), "stop_token_ids",
                        "invalid_type", "stop_token_ids must be an array of token ids"),
                Arguments.of("stop_token_ids negative", chat("'stop_token_ids':[1,-2]"), "stop_token_ids",
                        "invalid_value", "stop_token_ids[1] must be a token id"),
                Arguments.of("skip_special_tokens false", chat("'skip_special_tokens':false"), "skip_special_tokens",
                        "unsupported_value", "skip_special_tokens false is not supported"));
    }

    @Test
    void toolsBecomeTheRequestsToolRequest() {
        String tools = "'tools':[{'type':'function','function':{'name':'get_weather','description':'d','parameters':"
                + "{'type':'object','properties':{'city':{'type':'string'}},'required':['city']},'strict':true}},"
                + "{'type':'function','function':{'name':'ping'}}]";
        ToolRequest auto = RequestParser.parseChat(chat(tools)).tools();
        assertEquals(ToolRequest.Choice.AUTO, auto.choice());
        assertTrue(auto.parallel());
        assertEquals(List.of("get_weather", "ping"), List.copyOf(auto.callable().keySet()));
        assertNull(auto.callable().get("ping"), "a function without parameters takes any object");
        assertEquals(List.of(Map.of("type", "function", "function", Map.of("name", "ping"))),
                auto.templateTools().subList(1, 2), "the template sees the tools as sent");
        ToolRequest named = RequestParser.parseChat(chat(tools + ",'tool_choice':{'type':'function','function':"
                + "{'name':'ping'}},'parallel_tool_calls':false")).tools();
        assertEquals(ToolRequest.Choice.NAMED, named.choice());
        assertEquals(List.of("ping"), List.copyOf(named.callable().keySet()));
        assertFalse(named.parallel());
        assertEquals(ToolRequest.Choice.REQUIRED, RequestParser.parseChat(chat(tools + ",'tool_choice':'required'"))
                .tools().choice());
        assertNull(RequestParser.parseChat(chat(tools + ",'tool_choice':'none'")).tools(),
                "with tool_choice none the model is not shown the tools");
        assertNull(RequestParser.parseChat(chat("'tools':[],'tool_choice':'none'")).tools());
    }

    @Test
    void structuredOutputConstraintsBecomeTheRequestsGrammar() {
        assertNull(RequestParser.parseChat(chat("")).constraint());
        assertNull(RequestParser.parseChat(chat("'response_format':{'type':'text'}")).constraint());
        assertEquals("JSON Schema", RequestParser.parseChat(chat("'response_format':{'type':'json_object'}"))
                .constraint().description());
        var schema = RequestParser.parseChat(chat("'response_format':{'type':'json_schema','json_schema':"
                + "{'name':'person','description':'d','strict':true,'schema':{'type':'object','properties':"
                + "{'n':{'type':'string'}},'required':['n'],'additionalProperties':false}}}")).constraint();
        assertEquals("JSON Schema", schema.description());
        assertSame(schema, RequestParser.parseCompletion(completion("'guided_json':{'type':'object','properties':"
                + "{'n':{'type':'string'}},'required':['n'],'additionalProperties':false}")).constraint(),
                "the same schema compiles once, whichever field carries it");
        assertNotNull(RequestParser.parseCompletion(completion("'guided_json':'{\\'type\\': \\'integer\\'}'"))
                .constraint());
        assertEquals("one of [yes, no]", RequestParser.parseCompletion(completion("'guided_choice':['yes','no']"))
                .constraint().description());
        assertEquals("the regex [0-9]+", RequestParser.parseChat(chat("'guided_regex':'[0-9]+'")).constraint()
                .description());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidChatBodies")
    void invalidChatBodiesAreRejectedNamingTheField(String name, String body, String param, String code, String message) {
        RequestException e = assertThrows(RequestException.class, () -> RequestParser.parseChat(body));
        assertEquals(param, e.param(), e.getMessage());
        assertEquals(code, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains(message), () -> "message was: " + e.getMessage());
    }

    static Stream<Arguments> invalidCompletionBodies() {
        return Stream.of(
                Arguments.of("missing prompt", json("{'model':'m'}"), "prompt", "missing_required_parameter", "prompt"),
                Arguments.of("two prompts", json("{'model':'m','prompt':['a','b']}"), "prompt", "unsupported_value",
                        "prompt holds 2 prompts, but each batch line must carry exactly one"),
                Arguments.of("two token prompts", json("{'model':'m','prompt':[[1],[2]]}"), "prompt", "unsupported_value",
                        "holds 2 prompts"),
                Arguments.of("empty prompt array", json("{'model':'m','prompt':[]}"), "prompt", "empty_array", "empty"),
                Arguments.of("empty token prompt", json("{'model':'m','prompt':[[]]}"), "prompt[0]", "empty_array",
                        "at least one token id"),
                Arguments.of("negative token", json("{'model':'m','prompt':[5,-1]}"), "prompt", "invalid_value",
                        "prompt[1] must be a token id (an integer >= 0), got -1"),
                Arguments.of("mixed prompt", json("{'model':'m','prompt':[1,'a']}"), "prompt", "invalid_value",
                        "prompt[1] must be a token id"),
                Arguments.of("prompt an object", json("{'model':'m','prompt':{}}"), "prompt", "invalid_type",
                        "prompt must be a string or an array"),
                Arguments.of("prompt of booleans", json("{'model':'m','prompt':[true]}"), "prompt", "invalid_type",
                        "an array of token ids"),
                Arguments.of("echo", completion("'echo':true"), "echo", "unsupported_value", "echo is not supported"),
                Arguments.of("suffix", completion("'suffix':'end'"), "suffix", "unsupported_parameter", "suffix"),
                Arguments.of("best_of", completion("'best_of':3"), "best_of", "unsupported_value",
                        "best_of greater than 1 is not supported"),
                Arguments.of("logprobs too large", completion("'logprobs':6"), "logprobs", "integer_above_max_value",
                        "logprobs must be between 0 and 5, got 6"),
                Arguments.of("logprobs a boolean", completion("'logprobs':true"), "logprobs", "invalid_type",
                        "logprobs must be an integer"),
                Arguments.of("stream", completion("'stream':true"), "stream", "unsupported_value", "stream is not supported"),
                Arguments.of("temperature", completion("'temperature':2.01"), "temperature", "decimal_above_max_value",
                        "temperature must be between 0 and 2, got 2.01"),
                Arguments.of("min_tokens over the default max_tokens", completion("'min_tokens':17"), "min_tokens",
                        "invalid_value", "min_tokens (17) must not exceed max_tokens (16, the default of /v1/completions)"),
                Arguments.of("stream_options", completion("'stream_options':{}"), "stream_options", "invalid_value",
                        "stream_options is only allowed when stream is true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidCompletionBodies")
    void invalidCompletionBodiesAreRejectedNamingTheField(String name, String body, String param, String code,
            String message) {
        RequestException e = assertThrows(RequestException.class, () -> RequestParser.parseCompletion(body));
        assertEquals(param, e.param(), e.getMessage());
        assertEquals(code, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains(message), () -> "message was: " + e.getMessage());
    }

    @Test
    void aRequestExceptionBecomesA400WithOpenAisEnvelope() {
        RequestException e = assertThrows(RequestException.class, () -> RequestParser.parseChat(chat("'n':0")));
        InferenceResult result = e.toResult();
        assertEquals(400, result.statusCode());
        assertEquals(json("{'error':{'message':'n must be between 1 and 128, got 0','type':'invalid_request_error',"
                + "'param':'n','code':'integer_below_min_value'}}"), result.body());
    }

    @Test
    void tokenIdsAreCheckedAgainstTheModelsVocabulary() {
        GenerationRequest biased = RequestParser.parseChat(chat("'logit_bias':{'1000':5}"));
        biased.checkVocabulary(1001);
        RequestException bias = assertThrows(RequestException.class, () -> biased.checkVocabulary(1000));
        assertEquals("logit_bias", bias.param());
        assertTrue(bias.getMessage().contains("token 1000") && bias.getMessage().contains("0 to 999"), bias.getMessage());

        GenerationRequest stops = RequestParser.parseChat(chat("'stop_token_ids':[3,1000]"));
        RequestException stop = assertThrows(RequestException.class, () -> stops.checkVocabulary(1000));
        assertEquals("stop_token_ids", stop.param());
        assertTrue(stop.getMessage().contains("token 1000"), stop.getMessage());

        GenerationRequest tokens = RequestParser.parseCompletion(json("{'model':'m','prompt':[1,50]}"));
        RequestException prompt = assertThrows(RequestException.class, () -> tokens.checkVocabulary(50));
        assertEquals("prompt", prompt.param());
        assertTrue(prompt.getMessage().contains("prompt[1] is token 50"), prompt.getMessage());
    }

    @Test
    void contextLengthErrorsUseOpenAisCode() {
        RequestException e = RequestException.contextLengthExceeded("messages", 4096, 4000, 200);
        assertEquals("context_length_exceeded", e.code());
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().contains("maximum context length is 4096 tokens"), e.getMessage());
        assertTrue(e.getMessage().contains("you requested 4200 tokens"), e.getMessage());
    }

    @Test
    void theLargestMaxTokensIsCountedWithoutOverflowInTheContextLengthMessage() {
        RequestException e = RequestException.contextLengthExceeded("prompt", 2048, 27, Integer.MAX_VALUE);
        assertTrue(e.getMessage().contains("you requested 2147483674 tokens (27 in the prompt, 2147483647 in the"
                + " completion)"), e.getMessage());
    }
}
