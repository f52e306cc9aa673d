package io.batchllm.engine.chat.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * jinja2's {@code namespace()}: the one mutable object a template has, whose attributes
 * <code>&#123;% set ns.attr = value %&#125;</code> changes from inside loops.
 */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
