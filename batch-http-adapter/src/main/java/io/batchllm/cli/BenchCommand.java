package io.batchllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.batchllm.engine.cpu.CpuExecutor;
import io.batchllm.engine.gguf.ModelFormatException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
                "  batchllm bench --model Llama-3.2-1B-Instruct-Q8_0.gguf --parallel 1,4 --json"})
final class BenchCommand implements Callable<Integer> {
    static final String DEFAULT_PARALLEL = "1,8,32";
    static final int DEFAULT_PROMPT_TOKENS = 128;
    static final int DEFAULT_GEN_TOKENS = 128;
    /** Seed of the random prompt tokens. */
    static final long SEED = 42;

    /** The backend choices of {@code --backend}; only the CPU executor has a bench driver today. */
    enum BackendChoice { auto, cpu, cuda }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH.gguf|synthetic:SHAPE-TYPE",
            description = "The GGUF file to measure, or a generated model with random weights: synthetic:15M-f32, "
                    + "synthetic:110M-f32, synthetic:110M-f16, synthetic:110M-q8_0, … (written once into --cache-dir).")
    String model;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", defaultValue = "auto",
            description = "The executor to measure (default: ${DEFAULT-VALUE}, which is the CPU today).")
    BackendChoice backend;

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

    @Override
    public Integer call() {
        checkArguments();
        Path file = modelFile();
        int threadCount = threads != null ? threads : CpuExecutor.DEFAULT_THREADS;
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<BatchedBench.Result> results = new ArrayList<>();
        if (hardware) {
            err.printf(Locale.ROOT, "hardware: peak F32 FMA %.1f GFLOP/s, triad bandwidth %.1f GB/s (%d threads)%n",
                    HardwareProbe.peakFlops(threadCount) / 1e9, HardwareProbe.triadBandwidth(threadCount) / 1e9,
                    threadCount);
            err.flush();
        }
        try (CpuExecutor executor = load(file, threadCount)) {
            int context = executor.config().contextLength();
            if (promptTokens + genTokens > context) {
                throw new UsageException("--prompt-tokens + --gen-tokens = " + (promptTokens + genTokens)
                        + " exceeds the model's context length " + context + "; lower them");
            }
            err.printf(Locale.ROOT, "bench: %s, cpu executor, %d threads, PP %d, TG %d%n", file, threadCount,
                    promptTokens, genTokens);
            err.flush();
            BatchedBench bench = new BatchedBench(executor, SEED);
            if (!json) {
                out.println("|     PP |     TG |    B |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |");
                out.println("|-------:|-------:|-----:|---------:|---------:|---------:|---------:|");
                out.flush();
            }
            for (int b : parallel) {
                BatchedBench.Result r = bench.measure(b, promptTokens, genTokens, repetitions);
                results.add(r);
                if (!json) {
                    out.printf(Locale.ROOT, "| %6d | %6d | %4d | %8.3f | %8.1f | %8.3f | %8.2f |%n", r.promptTokens(),
                            r.genTokens(), r.parallel(), r.promptSeconds(), r.promptTokensPerSecond(),
                            r.decodeSeconds(), r.decodeTokensPerSecond());
                    out.flush();
                }
            }
        }
        if (json) {
            out.println(toJson(results, file, threadCount));
            out.flush();
        }
        return ExitCodes.COMPLETED;
    }

    private void checkArguments() {
        if (backend == BackendChoice.cuda) {
            throw new UsageException("--backend cuda: bench drives the CPU executor only in this build; use "
                    + "--backend cpu");
        }
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
    }

    private Path modelFile() {
        if (model.startsWith(SyntheticModels.PREFIX)) {
            return SyntheticModels.resolve(model, cacheDir != null ? cacheDir : SyntheticModels.defaultCacheDir());
        }
        Path file = Path.of(model);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--model " + model + ": no such file (give a GGUF file or "
                    + SyntheticModels.PREFIX + SyntheticModels.names() + ")");
        }
        return file;
    }

    private static CpuExecutor load(Path file, int threads) {
        try {
            return CpuExecutor.load(file, threads);
        } catch (ModelFormatException e) {
            throw new UsageException("--model " + file + " does not load: " + e.getMessage(), e);
        }
    }

    private static String toJson(List<BatchedBench.Result> results, Path file, int threads) {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode array = mapper.createArrayNode();
        for (BatchedBench.Result r : results) {
            ObjectNode o = array.addObject();
            o.put("parallel", r.parallel());
            o.put("prompt_tokens_per_second", r.promptTokensPerSecond());
            o.put("decode_tokens_per_second", r.decodeTokensPerSecond());
            o.put("prompt_tokens", r.promptTokens());
            o.put("gen_tokens", r.genTokens());
            o.put("prompt_seconds", r.promptSeconds());
            o.put("decode_seconds", r.decodeSeconds());
            o.put("threads", threads);
            o.put("model", file.toString());
        }
        return array.toString();
    }
}
