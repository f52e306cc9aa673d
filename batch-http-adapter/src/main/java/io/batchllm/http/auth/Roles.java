package io.batchllm.http.auth;

import java.util.Locale;
import java.util.Optional;

/** Role names as stored and as written in claims and on the command line: {@code admin}, {@code member}, {@code reader}. */
final class Roles {
    private Roles() {
    }

    /** The role named {@code name}, in any case; empty for anything else. */
    static Optional<Role> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (Role r : Role.values()) {
            if (r.name().equalsIgnoreCase(name)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    static String name(Role role) {
        return role.name().toLowerCase(Locale.ROOT);
    }
}
