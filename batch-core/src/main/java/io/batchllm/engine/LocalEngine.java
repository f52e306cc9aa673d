package io.batchllm.engine;

import io.batchllm.engine.chat.ChatTemplate;
import io.batchllm.engine.chat.ChatTemplates;
import io.batchllm.engine.chat.ChatTemplateException;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.kv.KvBlockPool;
import io.batchllm.engine.kv.KvCacheStats;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.engine.model.KvLayout;
import io.batchllm.engine.model.ModelConfig;
import io.batchllm.engine.openai.Endpoint;
import io.batchllm.engine.openai.GenerationRequest;
import io.batchllm.engine.openai.RequestException;
import io.batchllm.engine.openai.RequestParser;
import io.batchllm.engine.openai.ResponseBuilder;
import io.batchllm.engine.sampling.SamplingParams;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.engine.tools.ToolFormat;
import io.batchllm.spi.InferenceResult;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one model: turns OpenAI request bodies into generated responses on a {@link DeviceExecutor},
 * batching every request in flight into shared forward steps (continuous batching).
 *
 * <p>{@link #submit} parses the body, applies the chat template and tokenizes on the caller's thread
 * (so a bad request fails at once, as a 400 result), then queues the request. One engine thread runs
 * the generation loop ({@link GenerationLoop}): each step runs up to {@link EngineLimits#maxSequences()}
 * choices together within a token budget, one-token decodes first and prompt chunks in the rest; the
 * executor samples on the device and returns only the sampled tokens (and logprobs asked for). A
 * request with {@code n > 1} runs as n sequences, each with its own random stream, and completes when
 * the last finishes. Limits left automatic are the executor's suggestions ({@link
 * DeviceExecutor#defaults()}).
 *
 * <p><b>KV cache.</b> At start the engine reserves a paged KV cache on the device
 * ({@link #kvLayout()}: {@link EngineLimits#kvCacheTokens()} positions in blocks of
 * {@link EngineLimits#kvBlockSize()}) and never allocates cache memory again. A choice takes blocks as
 * it grows; when none are left the youngest running choice is preempted and recomputed later, which
 * {@link #preemptions()} counts. Prompts that start alike share their prefix's blocks (unless
 * {@link EngineLimits#prefixSharing()} is off), reported as {@code cached_tokens} in the usage.
 *
 * <p><b>Determinism.</b> With a {@code seed} (or {@code temperature} 0) a request gets the same tokens
 * whatever else is batched with it and however often it is preempted: the executor's logits do not
 * depend on the batch, and generated token {@code i} of a choice draws the random number
 * {@code (seed, choice, i)}. A request without a seed gets one drawn when it is submitted.
 *
 * <p><b>Metrics</b> ({@link #bindTo}): {@value #PREEMPTIONS_METRIC} (counter), {@value #KV_BLOCKS_METRIC}
 * and {@value #KV_BLOCKS_IN_USE_METRIC} (gauges), each tagged {@code model}.
 *
 * <p><b>Results.</b> A future completes with a 200 response, a 400 for a request that cannot be served
 * as sent (see {@link RequestException}), or a 500 when the engine failed on that request alone (also
 * when preparing it ran out of stack or heap). It completes exceptionally only when the engine is
 * closed first.
 *
 * <p>Thread safe: {@link #submit} may be called from any thread. The engine owns the executor and closes
 * it in {@link #close()}.
 */
public final class LocalEngine implements AutoCloseable, MeterBinder {
    /** The chat responses' {@code system_fingerprint} unless the builder sets one. */
    public static final String DEFAULT_SYSTEM_FINGERPRINT = "fp_batchllm";
    /** Counter: choices preempted for lack of KV blocks (and recomputed later). */
    public static final String PREEMPTIONS_METRIC = "batchllm.engine.preemptions";
    /** Gauge: blocks of the KV cache. */
    public static final String KV_BLOCKS_METRIC = "batchllm.engine.kv.blocks";
    /** Gauge: KV blocks held by running choices. */
    public static final String KV_BLOCKS_IN_USE_METRIC = "batchllm.engine.kv.blocks.in_use";

    private static final Logger log = LoggerFactory.getLogger(LocalEngine.class);

    private final String modelName;
    private final DeviceExecutor executor;
    private final Tokenizer tokenizer;
    private final EngineLimits limits;
    private final PromptEncoder prompts;
    /** How the model's chat template writes tool calls; empty when it writes none (or there is no template). */
    private final Optional<ToolFormat> toolFormat;
    private final ResponseBuilder responses;
    private final int contextLength;
    /** Every token that ends generation unless a request says {@code ignore_eos}. */
    private final int[] endOfGeneration;
    private final KvBlockPool pool;
    private final GenerationLoop loop;
    private final Thread thread;
    private final Object lifecycle = new Object();
    private boolean closed;

    private LocalEngine(Builder b) {
        this.modelName = b.modelName;
        this.executor = b.executor;
        this.tokenizer = b.tokenizer;
        this.limits = b.limits.resolve(executor.defaults());
        ModelConfig config = executor.config();
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new ModelFormatException("model " + modelName + ": the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's output has only " + config.vocabSize() + " logits; the GGUF file is"
                    + " inconsistent, re-export it");
        }
        this.contextLength = config.contextLength();
        this.endOfGeneration = EndOfGeneration.tokens(tokenizer, b.chatTemplate);
        this.prompts = new PromptEncoder(modelName, tokenizer, b.chatTemplate,
                b.chatTemplateProblem != null ? b.chatTemplateProblem : ChatTemplates.noChatTemplate(modelName),
                contextLength);
        this.toolFormat = b.chatTemplate == null ? Optional.empty() : ToolFormat.detect(b.chatTemplate.source());
        this.responses = new ResponseBuilder(b.clock, b.systemFingerprint);
        KvLayout layout = kvLayout(limits, executor);
        executor.allocateKvCache(layout, limits.maxSequences());
        this.pool = new KvBlockPool(layout, limits.prefixSharing());
        log.info("model {}: generation ends at tokens {}", modelName, IntStream.of(endOfGeneration)
                .mapToObj(t -> t + " " + tokenizer.rawTokenText(t)).toList());
        log.info("model {}: KV cache of {} tokens ({} blocks of {}, {} MiB), prefix sharing {}, {} sequences, "
                + "steps of {} tokens", modelName, layout.tokens(), layout.blockCount(), layout.blockSize(),
                layout.tokens() * executor.kvBytesPerToken() >> 20, limits.prefixSharing() ? "on" : "off",
                limits.maxSequences(), limits.maxStepTokens());
        this.loop = new GenerationLoop(modelName, executor, limits, pool,
                new GrammarMatchers(tokenizer, config.vocabSize()));
        this.thread = Thread.ofPlatform().name("batchllm-engine-" + modelName).daemon(true).unstarted(loop);
    }

    /**
     * The KV cache for resolved {@code limits} on {@code executor}: {@link EngineLimits#kvCacheTokens()}
     * if set, else {@code maxSequences × context_length} capped by the device's
     * {@link io.batchllm.engine.model.DeviceDefaults#kvCacheBytes()}, and at least one block.
     */
    static KvLayout kvLayout(EngineLimits limits, DeviceExecutor executor) {
        long tokens = limits.kvCacheTokens();
        if (tokens == EngineLimits.AUTO_KV_CACHE_TOKENS) {
            long wanted = (long) limits.maxSequences() * executor.config().contextLength();
            long affordable = executor.defaults().kvCacheBytes() / Math.max(1, executor.kvBytesPerToken());
            tokens = Math.min(Math.min(wanted, affordable), EngineLimits.MAX_KV_CACHE_TOKENS);
        }
        int blocks = (int) Math.max(1, tokens / limits.kvBlockSize());
        return new KvLayout(limits.kvBlockSize(), blocks);
    }

    /** The KV cache the engine reserved at start. */
    public KvLayout kvLayout() {
        return pool.layout();
    }

    /** The KV cache's counters (blocks filled, in use, cached) as of the engine's last step. */
    public KvCacheStats kvCacheStats() {
        return loop.kvStats();
    }

    /** Choices preempted for lack of KV blocks since the engine started (each was recomputed later). */
    public long preemptions() {
        return loop.preemptions();
    }

    /** Registers this engine's meters (see the class description), tagged with the model name. */
    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder(PREEMPTIONS_METRIC, loop, GenerationLoop::preemptions)
                .description("Choices preempted for lack of KV cache blocks, recomputed later").tag("model", modelName)
                .register(registry);
        Gauge.builder(KV_BLOCKS_METRIC, pool.layout(), KvLayout::blockCount)
                .description("Blocks of the KV cache").tag("model", modelName).register(registry);
        Gauge.builder(KV_BLOCKS_IN_USE_METRIC, loop, l -> l.kvStats().blocksInUse())
                .description("KV cache blocks held by running choices").tag("model", modelName).register(registry);
    }

    /**
     * Starts describing an engine.
     *
     * @param modelName the name requests use for the model (for messages; requests echo their own)
     * @param executor runs the model; the engine takes ownership and closes it
     * @param tokenizer the model's tokenizer
     */
    public static Builder builder(String modelName, DeviceExecutor executor, Tokenizer tokenizer) {
        return new Builder(modelName, executor, tokenizer);
    }

    /** Tokens generated since the engine started, those of unfinished requests included. Any thread. */
    public long generatedTokens() {
        return loop.generatedTokens();
    }

    /** The model name given to the builder. */
    public String modelName() {
        return modelName;
    }

    /** The limits it runs with: the builder's, with automatic sizes replaced by the executor's suggestions. */
    public EngineLimits limits() {
        return limits;
    }

    /** The model's context length in tokens: prompt plus completion must fit in it. */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Starts one request and returns at once.
     *
     * @param endpoint the endpoint the body was sent to
     * @param body the request body (JSON object as text)
     * @return completes with the response: 200, 400 for a request that cannot be served, or 500 when
     *     the engine failed on it; exceptionally only if the engine is closed before it finishes
     */
    public CompletableFuture<InferenceResult> submit(Endpoint endpoint, String body) {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(body, "body");
        CompletableFuture<InferenceResult> future = new CompletableFuture<>();
        GenerationLoop.Admission admission;
        try {
            admission = prepare(RequestParser.parse(endpoint, body), future);
        } catch (RequestException e) {
            future.complete(e.toResult());
            return future;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            // A request that exhausts the stack or the heap while it is prepared (a pathological chat
            // template or message) fails alone: what it allocated is garbage once this frame unwinds.
            log.error("model {}: could not prepare a request", modelName, e);
            future.complete(InferenceResult.error(500, "server_error", "engine_error", null,
                    "the engine could not prepare this request (model " + modelName + "): " + e));
            return future;
        }
        if (!loop.offer(admission)) {
            future.completeExceptionally(new IllegalStateException("the engine of model " + modelName
                    + " is closed" + (closed() ? "" : ": its loop stopped after an unexpected error (see the log)")));
        }
        return future;
    }

    private GenerationLoop.Admission prepare(GenerationRequest request, CompletableFuture<InferenceResult> future) {
        int[] promptTokens = prompts.encode(request);
        ToolCalling tools = request.tools() == null ? null
                : ToolCalling.of(request.tools(), toolFormat, tokenizer, modelName);
        SamplingParams sampling = request.sampling();
        // drawn once here, so that a preempted choice recomputes the same tokens
        long seed = sampling.seed() != null ? sampling.seed() : ThreadLocalRandom.current().nextLong();
        Grammar constraint = request.constraint() != null ? request.constraint() : tools == null ? null : tools.grammar();
        RequestState state = new RequestState(request, promptTokens, constraint, tools, seed, responses, future);
        int[] ends = endTokens(sampling);
        List<SequenceState> choices = new ArrayList<>(sampling.n());
        for (int i = 0; i < sampling.n(); i++) {
            choices.add(new SequenceState(state, i, tokenizer, contextLength, seed, ends));
        }
        return new GenerationLoop.Admission(choices);
    }

    /** The tokens that end a choice of this request, which {@code min_tokens} masks. */
    private int[] endTokens(SamplingParams sampling) {
        IntStream stops = sampling.stopTokenIds().stream().mapToInt(Integer::intValue);
        IntStream ends = sampling.ignoreEos() ? stops : IntStream.concat(IntStream.of(endOfGeneration), stops);
        return ends.distinct().toArray();
    }

    /**
     * Stops the engine: the current step completes, requests not finished then complete exceptionally,
     * and the executor is closed. Waits for the engine thread. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
        }
        loop.stop();
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                // the executor must not be closed under a running step: keep waiting, re-interrupt after
                interrupted = true;
            }
        }
        executor.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean closed() {
        synchronized (lifecycle) {
            return closed;
        }
    }

    private LocalEngine start() {
        thread.start();
        return this;
    }

    /** Describes a {@link LocalEngine}; {@link #start()} builds and starts it. Not thread safe. */
    public static final class Builder {
        private final String modelName;
        private final DeviceExecutor executor;
        private final Tokenizer tokenizer;
        private ChatTemplate chatTemplate;
        private ChatTemplateException chatTemplateProblem;
        private EngineLimits limits = EngineLimits.DEFAULTS;
        private Clock clock = Clock.systemUTC();
        private String systemFingerprint = DEFAULT_SYSTEM_FINGERPRINT;

        private Builder(String modelName, DeviceExecutor executor, Tokenizer tokenizer) {
            this.modelName = Objects.requireNonNull(modelName, "modelName");
            this.executor = Objects.requireNonNull(executor, "executor");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        }

        /** The chat template for {@code /v1/chat/completions}. Default: none, so chat requests get a 400. */
        public Builder chatTemplate(ChatTemplate template) {
            this.chatTemplate = template;
            return this;
        }

        /**
         * Why the model has no usable chat template (for example it does not compile); chat requests
         * get a 400 with this message. Default: {@link ChatTemplates#noChatTemplate}.
         */
        public Builder chatTemplateProblem(ChatTemplateException problem) {
            this.chatTemplateProblem = problem;
            return this;
        }

        /** Default {@link EngineLimits#DEFAULTS}. */
        public Builder limits(EngineLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** Gives the responses' {@code created}. Default: the system clock (UTC). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The chat responses' {@code system_fingerprint}. Default {@value LocalEngine#DEFAULT_SYSTEM_FINGERPRINT}. */
        public Builder systemFingerprint(String fingerprint) {
            this.systemFingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
            return this;
        }

        /** Builds the engine and starts its thread. */
        public LocalEngine start() {
            return new LocalEngine(this).start();
        }
    }
}
