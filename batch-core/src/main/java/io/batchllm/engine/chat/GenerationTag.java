package io.batchllm.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import java.io.Serial;

/**
 * {@code {% generation %}...{% endgeneration %}}: HF's AssistantTracker extension, which some
 * templates use to mark the assistant's tokens for training masks. For rendering a prompt it only
 * prints its body; without the tag Jinjava rejects those templates as having an unknown tag.
 */
final class GenerationTag implements Tag {
    @Serial
    private static final long serialVersionUID = 1L;

    @Override
    public String getName() {
        return "generation";
    }

    @Override
    public String getEndTagName() {
        return "endgeneration";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        StringBuilder body = new StringBuilder();
        for (Node child : tagNode.getChildren()) {
            body.append(child.render(interpreter).getValue());
        }
        return body.toString();
    }
}
