package io.batchllm.store;

/**
 * The few places where H2 and PostgreSQL SQL differ. Everything else the store writes is standard.
 */
public enum SqlDialect {
    H2("CHARACTER VARYING(1000000000)", "DATEADD('MILLISECOND', ?, CURRENT_TIMESTAMP)", "NEXT VALUE FOR lease_token_seq"),
    POSTGRESQL("TEXT", "(CURRENT_TIMESTAMP + (? * INTERVAL '1 millisecond'))", "nextval('lease_token_seq')");

    private final String textType;
    private final String leaseExpiry;
    private final String nextToken;

    SqlDialect(String textType, String leaseExpiry, String nextToken) {
        this.textType = textType;
        this.leaseExpiry = leaseExpiry;
        this.nextToken = nextToken;
    }

    /** The unbounded text type that schema scripts write as {@code ${text}}. */
    String textType() {
        return textType;
    }

    /** A timestamp expression: the database's now plus a bind parameter of milliseconds. */
    String leaseExpiry() {
        return leaseExpiry;
    }

    /** An expression that draws the next fencing token. */
    String nextToken() {
        return nextToken;
    }

    /** The dialect of a JDBC URL. */
    public static SqlDialect forUrl(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:h2:")) {
            return H2;
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException("unsupported database URL '" + jdbcUrl
                + "': BatchLLM supports jdbc:h2: and jdbc:postgresql:");
    }
}
