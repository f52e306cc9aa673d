package io.batchllm.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code batchllm} command: it only holds the subcommands. Running it without one
 * prints the usage and exits with {@value ExitCodes#USAGE}.
 */
@Command(name = "batchllm",
        mixinStandardHelpOptions = true,
        versionProvider = BatchLlmCommand.Version.class,
        description = "OpenAI-compatible batch LLM inference on your own hardware.",
        subcommands = {RunBatchCommand.class, BenchCommand.class, ServeCommand.class, KeysCommand.class,
                CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success (run-batch: the batch completed; single lines may still have failed: see the error file)",
                "1:run-batch: the batch failed validation, expired or was cancelled; keys revoke: no such key",
                "2:bad usage or input: unknown option, missing input file, bad --model, a model that does not load, no "
                        + "backend for it",
                "3:internal error",
                "4:keys: the key database cannot be opened (for example a server holds the embedded H2 database)",
                "130:run-batch interrupted (Ctrl-C): the batch was cancelled",
                "143:run-batch stopped by SIGTERM: as Ctrl-C"})
final class BatchLlmCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: try 'batchllm run-batch --help', 'batchllm serve --help', 'batchllm bench --help' or 'batchllm keys --help'.");
    }

    /** Parses {@code args}, runs the command and returns the exit code; never calls {@code System.exit}. */
    static int execute(String[] args) {
        CommandLine cl = commandLine(CommandLine.defaultFactory());
        try {
            withConfigDefaults(cl, args, System.getenv());
        } catch (UsageException e) {
            cl.getErr().println("batchllm: " + e.getMessage());
            cl.getErr().flush();
            return ExitCodes.USAGE;
        }
        return cl.execute(args);
    }

    /** Lets {@code serve} take option defaults from the environment and {@code --config} ({@link ConfigDefaults}). */
    static CommandLine withConfigDefaults(CommandLine cl, String[] args, java.util.Map<String, String> env) {
        cl.getSubcommands().get("serve").setDefaultValueProvider(ConfigDefaults.from(args, env));
        return cl;
    }

    /** The configured command line; {@code factory} creates the subcommands, so tests can inject theirs. */
    static CommandLine commandLine(CommandLine.IFactory factory) {
        CommandLine cl = new CommandLine(new BatchLlmCommand(), factory);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(BatchLlmCommand::onBadParameters);
        cl.setExecutionExceptionHandler(BatchLlmCommand::onException);
        return cl;
    }

    /** Bad options: one line saying what is wrong and where the help is, not the whole usage text. */
    private static int onBadParameters(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("batchllm: " + e.getMessage());
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for the options.");
        err.flush();
        return ExitCodes.USAGE;
    }

    private static int onException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof UsageException) {
            err.println("batchllm: " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
        err.println("batchllm: internal error: " + e);
        e.printStackTrace(err);
        err.flush();
        return ExitCodes.INTERNAL_ERROR;
    }

    /** The version from the jar manifest, or {@code dev} when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = BatchLlmCommand.class.getPackage().getImplementationVersion();
            return new String[] {"batchllm " + (v != null ? v : "dev")};
        }
    }
}
