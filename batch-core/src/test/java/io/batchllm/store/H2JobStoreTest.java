package io.batchllm.store;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The job store contract on the embedded default: H2 in file mode. */
class H2JobStoreTest extends JobStoreContract {
    @TempDir
    Path dir;

    @Override
    protected JobStore openStore() {
        return JdbcJobStore.h2(dir);
    }
}
