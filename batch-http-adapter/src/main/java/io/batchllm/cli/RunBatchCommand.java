package io.batchllm.cli;

import io.batchllm.Batch;
import io.batchllm.BatchError;
import io.batchllm.BatchException;
import io.batchllm.BatchService;
import io.batchllm.ConflictException;
import io.batchllm.Endpoint;
import io.batchllm.FileObject;
import io.batchllm.FilePurpose;
import io.batchllm.FileUpload;
import io.batchllm.RequestCounts;
import io.batchllm.ServiceClosedException;
import io.batchllm.engine.DemoModel;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code batchllm run-batch}: runs one JSONL input file as one batch, like {@code vllm run-batch}, and
 * writes the output and error files. The exit code says how the batch ended ({@link ExitCodes}).
 */
@Command(name = "run-batch",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Runs every request of an OpenAI batch input file (JSONL) as one batch on this machine and writes "
                        + "the results in OpenAI's batch output format.",
                "The endpoint comes from the \"url\" of the first request; every line must use the same url and "
                        + "the same model. Without --model, the built-in demo model serves requests whose model is "
                        + "\"demo\" (tiny, random weights: for trying the tool, its output is gibberish).",
                "Progress goes to stderr: a bar redrawn in place on a terminal, otherwise a line every few seconds."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:the batch completed (single lines may still have failed: see the error file)",
                "1:the batch failed validation (the first errors are printed with line numbers), expired or was "
                        + "cancelled",
                "2:bad usage or input: unknown option, missing input file, bad --model, a model that does not "
                        + "load, no backend for it",
                "3:internal error",
                "130:interrupted (Ctrl-C): the batch was cancelled, finished lines were written",
                "143:stopped by SIGTERM: as Ctrl-C"},
        footerHeading = "%nExamples:%n",
        footer = {
                "  batchllm run-batch -i requests.jsonl -o results.jsonl",
                "  batchllm run-batch -i requests.jsonl -o results.jsonl \\",
                "      --model llama=Llama-3.2-1B-Instruct-Q8_0.gguf"})
final class RunBatchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunBatchCommand.class);
    /** How often the batch's state is read for the progress display. */
    static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(300);
    /** After Ctrl-C, how long in-flight requests may take to finish before we stop waiting. */
    static final Duration CANCEL_WAIT = Duration.ofSeconds(30);
    /** The shutdown hook's bound: cancel wait plus the service's own graceful close, with a margin. */
    private static final Duration HOOK_WAIT = CANCEL_WAIT.plus(BatchService.Builder.DEFAULT_SHUTDOWN_TIMEOUT)
            .plusSeconds(15);
    /** Validation errors printed on a failed batch; the service reports up to 100. */
    static final int PRINTED_VALIDATION_ERRORS = 10;
    static final String ERRORS_SUFFIX = ".errors.jsonl";

    /** The backend choices of {@code --backend}. */
    enum BackendChoice { auto, cpu, cuda }

    @Spec
    CommandSpec spec;

    // --input-file and --output-file are vLLM's names, so that a vllm run-batch command line works.
    @Option(names = {"-i", "--input", "--input-file"}, required = true, paramLabel = "IN.jsonl",
            converter = LocalFile.class,
            description = "The batch input file: one request per line, each with custom_id, method, url and body.")
    Path input;

    @Option(names = {"-o", "--output", "--output-file"}, required = true, paramLabel = "OUT.jsonl",
            converter = LocalFile.class,
            description = "Where to write the results of the lines that succeeded (replaced if it exists; written "
                    + "empty if none succeeded). A local file: a URL is refused.")
    Path output;

    @Option(names = "--errors", paramLabel = "ERR.jsonl", converter = LocalFile.class,
            description = "Where to write the lines that failed. Default: OUT with its .jsonl replaced by "
                    + ERRORS_SUFFIX + ", next to it (results.jsonl -> results" + ERRORS_SUFFIX + "). Written only "
                    + "if a line failed; otherwise an old file at this path is removed so that it is not mistaken "
                    + "for this run's.")
    Path errors;

    @Option(names = "--model", paramLabel = "NAME=PATH.gguf", converter = ModelArgument.Converter.class,
            description = "Serves the GGUF file PATH under the model name NAME (the \"model\" of the requests). "
                    + "Instead of a path: a model where a tool keeps it, ollama:MODEL[:TAG], hf:ORG/REPO/FILE.gguf or "
                    + "lmstudio:PUBLISHER/REPO (then NAME= may be left out: the name is the reference); nothing is "
                    + "downloaded. Repeatable. Default: the built-in demo model, named demo.")
    List<ModelArgument> models = new ArrayList<>();

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", defaultValue = "auto",
            description = "The inference backend: auto picks the best available one (default: ${DEFAULT-VALUE}).")
    BackendChoice backend;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the job database and stored files live; kept after the run. Default: a fresh "
                    + "temporary directory, deleted at exit.")
    Path dataDir;

    @Option(names = "--threads", paramLabel = "N",
            description = "CPU threads for inference. Default: all available processors.")
    Integer threads;

    @Option(names = "--engine-option", paramLabel = "KEY=VALUE",
            description = "An option for the inference backend, such as max_sequences=64, kv_cache_tokens=65536 "
                    + "or prefix_sharing=false (see docs/engine.md). Repeatable.")
    Map<String, String> engineOptions = new LinkedHashMap<>();

    private final ServiceFactory serviceFactory;
    private final boolean terminal;
    private final Duration plainProgressInterval;
    private final Duration pollInterval;

    private final AtomicBoolean interrupted = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile BatchService running;
    private volatile String batchId;

    /** The command as the launcher runs it: real service, progress style from the console. */
    RunBatchCommand() {
        this(ServiceFactory.DEFAULT, stderrIsTerminal(), Progress.DEFAULT_PLAIN_INTERVAL, DEFAULT_POLL_INTERVAL);
    }

    /** For tests: the service, the progress style and the timing are given. */
    RunBatchCommand(ServiceFactory serviceFactory, boolean terminal, Duration plainProgressInterval,
                    Duration pollInterval) {
        this.serviceFactory = serviceFactory;
        this.terminal = terminal;
        this.plainProgressInterval = plainProgressInterval;
        this.pollInterval = pollInterval;
    }

    /**
     * Java has no test for "stderr is a terminal". Since JDK 22 {@code System.console()} is non-null even
     * when redirected, so {@link java.io.Console#isTerminal()} (stdin and stdout are a terminal) is the
     * closest: it is false under a pipe or a redirect of stdout, where a redrawn bar would only add noise.
     */
    private static boolean stderrIsTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public Integer call() {
        Path in = existingInput();
        Endpoint endpoint = InputEndpoint.of(in);
        Path errorsPath = errors != null ? errors : defaultErrorsPath(output);
        checkOutputPaths(in, errorsPath);
        Map<String, Path> modelFiles = modelFiles();
        if (threads != null && threads < 1) {
            throw new UsageException("--threads must be at least 1, was " + threads);
        }
        Thread hook = new Thread(this::onShutdown, "batchllm-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try (DataDirectory data = DataDirectory.of(dataDir)) {
            if (modelFiles.isEmpty()) {
                modelFiles = Map.of(DemoModel.NAME, DemoModel.ensure(data.path().resolve("models")));
                log.info(DemoModel.NOTICE);
            }
            ServiceConfig config = new ServiceConfig(data.path(), modelFiles,
                    backend == BackendChoice.auto ? null : backend.name(), threads, engineOptions);
            try (BatchService service = start(config)) {
                return run(service, in, endpoint, errorsPath);
            }
        } finally {
            finished.countDown();
            removeHook(hook);
        }
    }

    private Path existingInput() {
        if (!Files.exists(input)) {
            throw new UsageException("input file not found: " + input.toAbsolutePath());
        }
        if (!Files.isRegularFile(input) || !Files.isReadable(input)) {
            throw new UsageException("input is not a readable file: " + input.toAbsolutePath());
        }
        return input;
    }

    /** {@code OUT} with {@code .jsonl} (if any) replaced by {@value #ERRORS_SUFFIX}, in the same directory. */
    static Path defaultErrorsPath(Path output) {
        String name = output.getFileName().toString();
        String stem = name.endsWith(".jsonl") ? name.substring(0, name.length() - ".jsonl".length()) : name;
        return output.resolveSibling(stem + ERRORS_SUFFIX);
    }

    private void checkOutputPaths(Path in, Path errorsPath) {
        Path inAbs = in.toAbsolutePath().normalize();
        Path outAbs = output.toAbsolutePath().normalize();
        Path errAbs = errorsPath.toAbsolutePath().normalize();
        if (outAbs.equals(inAbs) || errAbs.equals(inAbs)) {
            throw new UsageException("the output and error files must not be the input file " + inAbs);
        }
        if (outAbs.equals(errAbs)) {
            throw new UsageException("--output and --errors are the same file " + outAbs + "; give two paths");
        }
    }

    private Map<String, Path> modelFiles() {
        Map<String, Path> files = new LinkedHashMap<>();
        for (ModelArgument m : models) {
            if (!Files.isRegularFile(m.path())) {
                throw new UsageException("--model " + m.name() + "=" + m.path() + ": no such file "
                        + m.path().toAbsolutePath());
            }
            if (files.putIfAbsent(m.name(), m.path()) != null) {
                throw new UsageException("--model " + m.name() + " is given twice; each model name may appear once");
            }
        }
        return files;
    }

    private BatchService start(ServiceConfig config) {
        try {
            return serviceFactory.start(config);
        } catch (RuntimeException e) {
            // Every start failure we know of is the user's to fix: no backend for the models, a model file
            // that does not load, a --data-dir in use by another process.
            throw new UsageException("cannot start the inference service: " + e.getMessage(), e);
        }
    }

    private int run(BatchService service, Path in, Endpoint endpoint, Path errorsPath) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Batch batch;
        try {
            FileObject file = service.files().upload(upload(in));
            batch = service.batches().create(file.id(), endpoint);
        } catch (BatchException e) {
            throw new UsageException("the service refused the input: " + e.getMessage(), e);
        }
        running = service;
        batchId = batch.id();
        if (interrupted.get()) {
            cancelQuietly(); // Ctrl-C came before the batch existed
        }
        Progress progress = new Progress(err, terminal, plainProgressInterval, System::nanoTime, live(service));
        batch = awaitTerminal(service, batch, progress);
        progress.finish(batch);
        return switch (batch.status()) {
            case COMPLETED -> {
                writeResults(service, batch, errorsPath, out);
                out.println(summary(batch, progress.elapsedSeconds()));
                yield interruptedOr(ExitCodes.COMPLETED);
            }
            case FAILED -> {
                printValidationErrors(batch, err);
                yield interruptedOr(ExitCodes.BATCH_NOT_COMPLETED);
            }
            case CANCELLED, EXPIRED -> {
                writeResults(service, batch, errorsPath, out);
                err.println("batchllm: the batch was " + batch.status().wire() + " after "
                        + finishedCount(batch) + " of " + batch.requestCounts().total()
                        + " requests; the rest are in the error file as batch_" + batch.status().wire());
                out.println(summary(batch, progress.elapsedSeconds()));
                yield interruptedOr(ExitCodes.BATCH_NOT_COMPLETED);
            }
            default -> {
                err.println("batchllm: interrupted; the batch is still " + batch.status().wire() + " after waiting "
                        + CANCEL_WAIT.toSeconds() + " s for its in-flight requests, so no results were written"
                        + (dataDir != null ? "; it stays in --data-dir " + dataDir + " and its cancel completes the"
                        + " next time a service opens that directory" : ""));
                yield ExitCodes.INTERRUPTED;
            }
        };
    }

    /** The service's live counters, from its meters (docs/operations.md lists them). */
    private static Progress.Live live(BatchService service) {
        MeterRegistry meters = service.meterRegistry();
        return new Progress.Live(() -> (long) meters.get("batchllm.requests.in_flight").gauge().value(),
                () -> (long) meters.get("batchllm.tokens.generated").functionCounter().count());
    }

    /** The input under a {@code .jsonl} name, which the Files API requires of batch input. */
    private static FileUpload upload(Path in) {
        String name = in.getFileName().toString();
        try {
            InputStream content = Files.newInputStream(in);
            return FileUpload.of(content, name.endsWith(".jsonl") ? name : name + ".jsonl", FilePurpose.BATCH);
        } catch (IOException e) {
            throw new UsageException("cannot read " + in + ": " + e.getMessage(), e);
        }
    }

    /** Polls until the batch is terminal; after an interrupt, gives up after {@link #CANCEL_WAIT}. */
    private Batch awaitTerminal(BatchService service, Batch batch, Progress progress) {
        long giveUpAt = Long.MAX_VALUE;
        while (!batch.status().isTerminal()) {
            progress.update(batch);
            if (interrupted.get()) {
                if (giveUpAt == Long.MAX_VALUE) {
                    giveUpAt = System.nanoTime() + CANCEL_WAIT.toNanos();
                } else if (System.nanoTime() - giveUpAt > 0) {
                    return batch;
                }
            }
            try {
                // await returns as soon as the batch turns terminal, so the timeout is only the poll period.
                batch = service.batches().await(batch.id(), pollInterval);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for batch " + batch.id(), e);
            }
        }
        return batch;
    }

    private int interruptedOr(int code) {
        return interrupted.get() ? ExitCodes.INTERRUPTED : code;
    }

    private void writeResults(BatchService service, Batch batch, Path errorsPath, PrintWriter out) {
        writeFile(service, batch.outputFileId(), output);
        out.println("output: " + output.toAbsolutePath() + " (" + batch.requestCounts().completed() + " lines)");
        if (batch.errorFileId() != null) {
            writeFile(service, batch.errorFileId(), errorsPath);
            out.println("errors: " + errorsPath.toAbsolutePath() + " (" + batch.requestCounts().failed() + " lines)");
        } else {
            try {
                Files.deleteIfExists(errorsPath);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove the old error file " + errorsPath + ": " + e.getMessage(), e);
            }
            out.println("errors: none");
        }
    }

    /** Copies a stored file to {@code target} through a temporary file, so a reader never sees half of it. */
    private static void writeFile(BatchService service, String fileId, Path target) {
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".part");
            try {
                if (fileId != null) {
                    try (InputStream content = service.files().content(fileId)) {
                        Files.copy(content, tmp, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    private static void printValidationErrors(Batch batch, PrintWriter err) {
        List<BatchError> list = batch.errors() != null ? batch.errors().data() : List.of();
        err.println("batchllm: the batch failed validation with " + list.size() + " error" + (list.size() == 1 ? "" : "s")
                + "; nothing was run. Fix the input file and run again.");
        for (BatchError e : list.subList(0, Math.min(list.size(), PRINTED_VALIDATION_ERRORS))) {
            err.println("  " + (e.line() != null ? "line " + e.line() : "file") + ": " + e.message()
                    + " [" + e.code() + "]");
        }
        if (list.size() > PRINTED_VALIDATION_ERRORS) {
            err.println("  ... and " + (list.size() - PRINTED_VALIDATION_ERRORS) + " more");
        }
    }

    private static long finishedCount(Batch batch) {
        RequestCounts c = batch.requestCounts();
        return c.completed() + c.failed();
    }

    static String summary(Batch batch, double seconds) {
        RequestCounts c = batch.requestCounts();
        long outputTokens = batch.usage() != null ? batch.usage().outputTokens() : 0;
        return "batch " + batch.id() + " " + batch.status().wire() + ": " + c.total() + " requests, " + c.completed()
                + " succeeded, " + c.failed() + " failed, in " + Progress.clock(seconds) + "; " + outputTokens
                + " output tokens, " + Progress.tokensPerSecond(outputTokens, seconds) + " tok/s";
    }

    /**
     * Ctrl-C (or SIGTERM): cancels the batch. The polling thread then sees it turn {@code cancelled},
     * writes what finished and closes the service. Called by the shutdown hook, and by tests.
     */
    void interrupt() {
        if (interrupted.compareAndSet(false, true)) {
            spec.commandLine().getErr().println();
            spec.commandLine().getErr().println("batchllm: interrupted, cancelling the batch (in-flight requests may "
                    + "take up to " + CANCEL_WAIT.toSeconds() + " s to finish)");
            spec.commandLine().getErr().flush();
        }
        cancelQuietly();
    }

    private void cancelQuietly() {
        BatchService s = running;
        String id = batchId;
        if (s == null || id == null) {
            return;
        }
        try {
            s.batches().cancel(id);
        } catch (ConflictException | ServiceClosedException e) {
            // Already terminal, or the run is ending anyway: nothing left to cancel.
            log.debug("cancel of {} not needed: {}", id, e.getMessage());
        }
    }

    /**
     * The JVM is exiting on a signal while we run: cancel, then hold the exit until the polling thread has
     * written the results and closed the service (the JVM exits when the hooks return).
     */
    private void onShutdown() {
        if (finished.getCount() == 0) {
            return;
        }
        interrupt();
        try {
            if (!finished.await(HOOK_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                System.err.println("batchllm: gave up waiting for the batch to stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down (Ctrl-C): the hook is running and ends with us.
            log.debug("shutdown in progress; hook stays: {}", e.getMessage());
        }
    }
}
