/**
 * A Jinja2 interpreter for chat templates: {@link io.batchllm.engine.chat.jinja.JinjaTemplate}
 * parses a template and renders it with the semantics of Python's jinja2 as Hugging Face
 * configures it (lexer whitespace rules, parser precedence, Python values, filters, tests, loop
 * variables, macros, namespaces), sandboxed (no access to anything but the variables, message text
 * never interpreted) and bounded by {@link io.batchllm.engine.chat.jinja.Limits}.
 * {@link io.batchllm.engine.chat.jinja.JinjaException} reports every failure with jinja2's message.
 */
package io.batchllm.engine.chat.jinja;
