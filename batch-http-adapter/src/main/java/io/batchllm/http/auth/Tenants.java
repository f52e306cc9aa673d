package io.batchllm.http.auth;

/** The rule for tenant names, shared by API keys and JWT claims. */
final class Tenants {
    /** The job store's owner column is VARCHAR(256). */
    static final int MAX_LENGTH = 256;

    private Tenants() {
    }

    /** Null when {@code tenant} is a valid name, otherwise what is wrong with it. */
    static String problem(String tenant) {
        if (tenant == null || tenant.isEmpty()) {
            return "the tenant is empty";
        }
        if (tenant.length() > MAX_LENGTH) {
            return "the tenant is " + tenant.length() + " characters long; at most " + MAX_LENGTH + " are allowed";
        }
        // White space and control characters make names that look alike in logs and listings.
        if (tenant.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
            return "the tenant '" + tenant + "' contains white space or control characters";
        }
        return null;
    }

    static String check(String tenant) {
        String problem = problem(tenant);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return tenant;
    }
}
