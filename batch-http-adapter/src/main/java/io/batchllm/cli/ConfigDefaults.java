package io.batchllm.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;

/**
 * Option defaults from the environment and a properties file, so a server can be configured without
 * a long command line. For an option {@code --db-url}: the environment variable
 * {@code BATCHLLM_DB_URL}, else the key {@code db-url} of the file named by {@code --config FILE} (or
 * by {@code BATCHLLM_CONFIG}), else the option's own default. The command line always wins. A
 * repeatable option takes a comma-separated list.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    static final String ENV_PREFIX = "BATCHLLM_";
    static final String CONFIG_OPTION = "--config";

    private final Map<String, String> env;
    private final Properties file;

    private ConfigDefaults(Map<String, String> env, Properties file) {
        this.env = env;
        this.file = file;
    }

    /**
     * Defaults for a run with {@code args}. The config file is found before parsing (picocli asks for
     * defaults before it has read {@code --config} itself).
     *
     * @throws UsageException the config file cannot be read
     */
    static ConfigDefaults from(String[] args, Map<String, String> env) {
        String path = env.get(ENV_PREFIX + "CONFIG");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(CONFIG_OPTION) && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith(CONFIG_OPTION + "=")) {
                path = args[i].substring(CONFIG_OPTION.length() + 1);
            }
        }
        Properties p = new Properties();
        if (path != null) {
            try (Reader r = Files.newBufferedReader(Path.of(path))) {
                p.load(r);
            } catch (IOException e) {
                throw new UsageException("cannot read the config file " + path + ": " + e.getMessage()
                        + " (a properties file: one 'option-name=value' per line, e.g. port=8080)");
            }
        }
        return new ConfigDefaults(Map.copyOf(env), p);
    }

    /** The environment variable for an option: {@code --db-url} → {@code BATCHLLM_DB_URL}. */
    static String envName(String longOption) {
        return ENV_PREFIX + longOption.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
        if (!(arg instanceof CommandLine.Model.OptionSpec o) || o.longestName().equals(CONFIG_OPTION)) {
            return arg.defaultValue();
        }
        String v = env.get(envName(o.longestName()));
        if (v == null) {
            v = file.getProperty(o.longestName().replaceFirst("^-+", ""));
        }
        return v != null ? v.strip() : arg.defaultValue();
    }
}
