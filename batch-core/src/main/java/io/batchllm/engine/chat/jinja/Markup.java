package io.batchllm.engine.chat.jinja;

/**
 * markupsafe's {@code Markup}: a string marked safe, as the {@code safe} filter returns. With
 * autoescaping off it prints as is, but Python's {@code Markup + str} still HTML-escapes the plain
 * operand, which templates that write {@code "..."|safe + name} rely on (Functionary v3.1).
 */
record Markup(String text) {
}
