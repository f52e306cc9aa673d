package io.batchllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.LocalExecutorProvider;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.GgufFile;
import io.batchllm.engine.gguf.ModelFormatException;
import io.batchllm.engine.grammar.Grammar;
import io.batchllm.engine.grammar.GrammarException;
import io.batchllm.engine.grammar.Grammars;
import io.batchllm.engine.model.DeviceExecutor;
import io.batchllm.spi.Availability;
import io.batchllm.spi.BackendConfig;
import io.batchllm.spi.InferenceBackendProvider;
import io.batchllm.engine.tokenizer.Tokenizer;
import io.batchllm.modelfiles.ModelLocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code batchllm bench}: prompt and aggregate decode throughput of a model file for several parallel
 * counts, like llama.cpp's {@code llama-batched-bench}, so that hardware and engines can be compared
 * on the same file. The measurement itself is {@link BatchedBench}.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Measures prompt and decode throughput, like llama-batched-bench: for each parallel count B, one "
                        + "step prefills B prompts of random tokens together, then B sequences are decoded in "
                        + "lock-step, one token each per step (each step feeds back the token the device sampled "
                        + "greedily in the step before, as the engine does).",
                "Reports S_PP = B*PP/T_PP (prompt tokens/s) and S_TG = B*TG/T_TG (aggregate decode tokens/s), "
                        + "after a warm-up round; with --repetitions, the median times."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:measured",
                "2:bad usage: unknown option, bad number, missing model file, a model that does not load",
                "3:internal error"},
        footerHeading = "%nExamples:%n",
        footer = {
                "  batchllm bench --model synthetic:110M-f32 --parallel 1,8,32",
                "  batchllm bench --model Llama-3.2-1B-Instruct-Q8_0.gguf --parallel 1,4 --json",
                "  batchllm bench --backend cuda --model synthetic:1B-bf16 --parallel 1,64,256",
                "  batchllm bench --model synthetic:110M-f32 --vocab-size 128256 --parallel 32 --json-schema s.json"})
final class BenchCommand implements Callable<Integer> {
    static final String DEFAULT_PARALLEL = "1,8,32";
    static final int DEFAULT_PROMPT_TOKENS = 128;
    static final int DEFAULT_GEN_TOKENS = 128;
    /** Seed of the random prompt tokens. */
    static final long SEED = 42;
    /** The smallest synthetic vocabulary: 3 special tokens, 256 byte tokens and one piece. */
    static final int MIN_SYNTHETIC_VOCAB = 260;

    /** The backend choices of {@code --backend}: a provider of the local engine's executors, by name. */
    enum BackendChoice { auto, cpu, cuda }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH.gguf|synthetic:SHAPE-TYPE",
            description = "The GGUF file to measure (or ollama:MODEL[:TAG], hf:ORG/REPO/FILE.gguf, "
                    + "lmstudio:PUBLISHER/REPO), or a generated model with random weights: synthetic:15M-f32, "
                    + "synthetic:110M-f32, synthetic:110M-f16, synthetic:110M-q8_0, … (written once into --cache-dir).")
    String model;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", defaultValue = "auto",
            description = "The executor to measure (default: ${DEFAULT-VALUE}: the GPU when one is usable, else the CPU).")
    BackendChoice backend;

    @Option(names = "--engine-option", paramLabel = "KEY=VALUE",
            description = "An option of the executor, such as gpu_memory_fraction=0.5 or cuda_graphs=false for "
                    + "--backend cuda (see docs/gpu.md). Repeatable.")
    Map<String, String> engineOptions = new LinkedHashMap<>();

    @Option(names = "--parallel", paramLabel = "B[,B…]", split = ",", defaultValue = DEFAULT_PARALLEL,
            description = "Parallel sequence counts (default: ${DEFAULT-VALUE}).")
    List<Integer> parallel = new ArrayList<>();

    @Option(names = "--prompt-tokens", paramLabel = "PP", defaultValue = "" + DEFAULT_PROMPT_TOKENS,
            description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", paramLabel = "TG", defaultValue = "" + DEFAULT_GEN_TOKENS,
            description = "Decode steps (tokens per sequence) (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--repetitions", paramLabel = "N", defaultValue = "1",
            description = "Timed rounds per parallel count; the median is reported (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--threads", paramLabel = "N",
            description = "CPU threads for inference. Default: all available processors.")
    Integer threads;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where synthetic models are written and reused. Default: $XDG_CACHE_HOME/batchllm or "
                    + "~/.cache/batchllm.")
    Path cacheDir;

    @Option(names = "--hardware", description = "First measure and print (on stderr) this machine's peak F32 FMA "
            + "throughput and triad memory bandwidth with --threads threads: the bounds for large and small B.")
    boolean hardware;

    @Option(names = "--json", description = "Print one JSON array, an object per parallel count, instead of a table.")
    boolean json;

    @Option(names = "--json-schema", paramLabel = "FILE",
            description = "Also measure every parallel count with each sample constrained by this JSON Schema (token"
                    + " masks from its grammar, as structured outputs run): the table gets a row per count and mode.")
    Path jsonSchema;

    @Option(names = "--vocab-size", paramLabel = "N",
            description = "For synthetic models: a synthetic vocabulary of N tokens instead of the shape's 32000"
                    + " (e.g. 128256, Llama 3's size).")
    Integer vocabSize;

    @Override
    public Integer call() {
        checkArguments();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // before the model: a synthetic one may take a minute to write, for a backend that is not there
        InferenceBackendProvider provider = provider(err);
        Path file = modelFile();
        int threadCount = threads != null ? threads : CpuExecutor.DEFAULT_THREADS;
        Grammar grammar = jsonSchema == null ? null : schemaGrammar();
        List<BatchedBench.Result> results = new ArrayList<>();
        List<Boolean> constrained = new ArrayList<>();
        if (hardware) {
            err.printf(Locale.ROOT, "hardware: peak F32 FMA %.1f GFLOP/s, triad bandwidth %.1f GB/s (%d threads)%n",
                    HardwareProbe.peakFlops(threadCount) / 1e9, HardwareProbe.triadBandwidth(threadCount) / 1e9,
                    threadCount);
            err.flush();
        }
        try (DeviceExecutor executor = load(provider, file, threadCount)) {
            int context = executor.config().contextLength();
            if (promptTokens + genTokens > context) {
                throw new UsageException("--prompt-tokens + --gen-tokens = " + (promptTokens + genTokens)
                        + " exceeds the model's context length " + context + "; lower them");
            }
            err.printf(Locale.ROOT, "bench: %s, %s executor (%s), %d threads, PP %d, TG %d%n", file, provider.name(),
                    provider.availability().reason(), threadCount, promptTokens, genTokens);
            err.flush();
            BatchedBench bench = new BatchedBench(executor, SEED);
            BatchedBench masked = grammar == null ? null : bench.constrained(grammar, tokenizer(file));
            if (!json) {
                out.println("|     PP |     TG |    B |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |"
                        + (masked == null ? "" : " schema |"));
                out.println("|-------:|-------:|-----:|---------:|---------:|---------:|---------:|"
                        + (masked == null ? "" : "-------:|"));
                out.flush();
            }
            for (int b : parallel) {
                for (BatchedBench mode : masked == null ? List.of(bench) : List.of(bench, masked)) {
                    BatchedBench.Result r = mode.measure(b, promptTokens, genTokens, repetitions);
                    results.add(r);
                    constrained.add(mode == masked);
                    if (!json) {
                        out.printf(Locale.ROOT, "| %6d | %6d | %4d | %8.3f | %8.1f | %8.3f | %8.2f |%s%n",
                                r.promptTokens(), r.genTokens(), r.parallel(), r.promptSeconds(),
                                r.promptTokensPerSecond(), r.decodeSeconds(), r.decodeTokensPerSecond(),
                                masked == null ? "" : mode == masked ? "    yes |" : "     no |");
                        out.flush();
                    }
                }
            }
        }
        if (json) {
            out.println(toJson(results, constrained, jsonSchema, file, threadCount, provider.name()));
            out.flush();
        }
        return ExitCodes.COMPLETED;
    }

    private void checkArguments() {
        if (parallel.isEmpty() || parallel.stream().anyMatch(b -> b < 1)) {
            throw new UsageException("--parallel must list counts of at least 1 (e.g. 1,8,32), is " + parallel);
        }
        if (promptTokens < 1) {
            throw new UsageException("--prompt-tokens must be at least 1, is " + promptTokens);
        }
        if (genTokens < 1) {
            throw new UsageException("--gen-tokens must be at least 1, is " + genTokens);
        }
        if (repetitions < 1) {
            throw new UsageException("--repetitions must be at least 1, is " + repetitions);
        }
        if (threads != null && threads < 1) {
            throw new UsageException("--threads must be at least 1, is " + threads);
        }
        if (vocabSize != null && vocabSize < MIN_SYNTHETIC_VOCAB) {
            throw new UsageException("--vocab-size must be at least " + MIN_SYNTHETIC_VOCAB + " (the synthetic vocabulary's"
                    + " special and byte tokens), is " + vocabSize);
        }
    }

    private Path modelFile() {
        if (model.startsWith(SyntheticModels.PREFIX)) {
            return SyntheticModels.resolve(model, cacheDir != null ? cacheDir : SyntheticModels.defaultCacheDir(),
                    vocabSize);
        }
        if (vocabSize != null) {
            throw new UsageException("--vocab-size applies to synthetic models only; " + model + " has its own");
        }
        if (ModelLocator.isReference(model)) {
            try {
                return ModelLocator.fromEnvironment().resolve(model);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--model " + model + ": " + e.getMessage(), e);
            }
        }
        Path file = Path.of(model);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--model " + model + ": no such file (give a GGUF file or "
                    + SyntheticModels.PREFIX + SyntheticModels.names() + ")");
        }
        return file;
    }

    /**
     * The provider of the executor to measure: {@code --backend}'s, or with {@code auto} the
     * highest-priority one available (each one skipped is named on {@code err} with its reason).
     */
    private InferenceBackendProvider provider(PrintWriter err) {
        List<InferenceBackendProvider> providers = ServiceLoader.load(InferenceBackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p instanceof LocalExecutorProvider)
                .sorted(Comparator.comparingInt(InferenceBackendProvider::priority).reversed()).toList();
        for (InferenceBackendProvider p : providers) {
            if (backend != BackendChoice.auto && !p.name().equals(backend.name())) {
                continue;
            }
            Availability a = p.availability();
            if (a.available()) {
                return p;
            }
            if (backend != BackendChoice.auto) {
                throw new UsageException("--backend " + backend + ": backend '" + p.name() + "' is not available: "
                        + a.reason());
            }
            err.printf("bench: backend '%s' is not available: %s%n", p.name(), a.reason());
        }
        throw new UsageException("--backend " + backend + ": no such executor on the class path");
    }

    private DeviceExecutor load(InferenceBackendProvider provider, Path file, int threads) {
        try {
            return ((LocalExecutorProvider) provider).loadExecutor(file, new BackendConfig(Map.of(), threads,
                    engineOptions));
        } catch (ModelFormatException e) {
            throw new UsageException("--model " + file + " does not load: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--engine-option: " + e.getMessage(), e);
        }
    }

    /** The grammar of {@code --json-schema}, compiled as a request's {@code response_format} would be. */
    private Grammar schemaGrammar() {
        JsonNode schema;
        try {
            schema = new ObjectMapper().readTree(Files.readString(jsonSchema));
        } catch (IOException e) {
            throw new UsageException("--json-schema " + jsonSchema + ": cannot read it as JSON: " + e.getMessage(), e);
        }
        try {
            return Grammars.jsonSchema(schema);
        } catch (GrammarException e) {
            throw new UsageException("--json-schema " + jsonSchema + ": " + e.getMessage(), e);
        }
    }

    private static Tokenizer tokenizer(Path file) {
        try (GgufFile gguf = GgufFile.open(file)) {
            return Tokenizer.fromGguf(gguf);
        } catch (ModelFormatException e) {
            throw new UsageException("--json-schema needs the model's tokenizer: " + e.getMessage(), e);
        }
    }

    private static String toJson(List<BatchedBench.Result> results, List<Boolean> constrained, Path schema, Path file,
            int threads, String backendName) {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode array = mapper.createArrayNode();
        for (int i = 0; i < results.size(); i++) {
            BatchedBench.Result r = results.get(i);
            ObjectNode o = array.addObject();
            o.put("parallel", r.parallel());
            o.put("prompt_tokens_per_second", r.promptTokensPerSecond());
            o.put("decode_tokens_per_second", r.decodeTokensPerSecond());
            o.put("prompt_tokens", r.promptTokens());
            o.put("gen_tokens", r.genTokens());
            o.put("prompt_seconds", r.promptSeconds());
            o.put("decode_seconds", r.decodeSeconds());
            o.put("threads", threads);
            o.put("backend", backendName);
            o.put("model", file.toString());
            if (schema != null) {
                o.put("json_schema", constrained.get(i) ? schema.toString() : null);
            }
        }
        return array.toString();
    }
}
