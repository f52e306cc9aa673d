package io.batchllm.engine.chat.jinja;

/** Rendered text being built, within the render's {@link Budget}. */
final class Output {
    private final StringBuilder text = new StringBuilder();
    private final Budget budget;

    Output(Budget budget) {
        this.budget = budget;
    }

    void append(String s) {
        if (text.length() + (long) s.length() > budget.maxOutputChars()) {
            throw JinjaException.limit("the rendered text would be longer than " + budget.maxOutputChars()
                    + " characters");
        }
        budget.elements(s.length());
        text.append(s);
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
