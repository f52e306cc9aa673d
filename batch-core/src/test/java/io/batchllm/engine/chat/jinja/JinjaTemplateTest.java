package io.batchllm.engine.chat.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The interpreter's bounds and sandbox: whatever a template does, a render ends within its
 * {@link Limits} with a {@link JinjaException} of kind LIMIT, and reaches nothing but its variables.
 * (Its Jinja2 semantics are shown against Python by {@link JinjaSemanticsDifferentialTest}.)
 */
class JinjaTemplateTest {
    private static final Limits SMALL = new Limits(100_000, 10_000, 100_000, 200);
    /** Small bounds on size, but steps enough that size is what runs out. */
    private static final Limits SMALL_SIZE = new Limits(10_000_000, 10_000, 100_000, 200);
    private static final Duration FAST = Duration.ofSeconds(20);

    private static String render(String source, Limits limits) {
        return JinjaTemplate.parse(source).render(Map.of(), Clock.systemUTC(), limits);
    }

    private static JinjaException limitFailure(String source, Limits limits) {
        JinjaException e = assertTimeoutPreemptively(FAST,
                () -> assertThrows(JinjaException.class, () -> render(source, limits)));
        assertEquals(JinjaException.Kind.LIMIT, e.kind(), e.getMessage());
        return e;
    }

    @Test
    void nestedLoopsStopAtTheStepLimit() {
        JinjaException e = limitFailure("{% for a in range(99999) %}{% for b in range(99999) %}{{ a }}{% endfor %}"
                + "{% endfor %}", SMALL);

        assertTrue(e.getMessage().contains("more than 100000 steps"), e.getMessage());
    }

    @Test
    void outputStopsAtTheOutputLimit() {
        JinjaException e = limitFailure("{% for a in range(99999) %}xxxxxxxxxx{% endfor %}",
                new Limits(10_000_000, 10_000, 10_000_000, 200));

        assertTrue(e.getMessage().contains("longer than 10000 characters"), e.getMessage());
    }

    @Test
    void aStringThatDoublesStopsBeforeItIsBuilt() {
        limitFailure("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                SMALL);
        limitFailure("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                SMALL);
    }

    @Test
    void repetitionIsChargedBeforeItAllocates() {
        limitFailure("{{ 'x' * 1000000000000 }}", Limits.DEFAULT);
        limitFailure("{{ [1, 2] * 1000000000000 }}", Limits.DEFAULT);
        limitFailure("{{ 'ab'.center(1000000000) }}", Limits.DEFAULT);
    }

    @Test
    void aGrowingListStopsAtTheAllocationLimit() {
        JinjaException e = limitFailure("{% set ns = namespace(l=[1]) %}{% for i in range(99999) %}"
                + "{% set ns.l = ns.l + ns.l[:1000] %}{% endfor %}", SMALL_SIZE);

        assertTrue(e.getMessage().contains("characters and items in all"), e.getMessage());
    }

    @Test
    void integersCannotGrowWithoutBound() {
        limitFailure("{{ 9 ** 999999 }}", Limits.DEFAULT);
        limitFailure("{% set ns = namespace(n=2) %}{% for i in range(99) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
                Limits.DEFAULT);
    }

    @Test
    void recursionWithoutEndStopsAtTheDepthLimit() {
        JinjaException e = limitFailure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", Limits.DEFAULT);

        assertTrue(e.getMessage().contains("nested deeper than 600 levels"), e.getMessage());
    }

    @Test
    void mutualRecursionThroughCallBlocksStopsToo() {
        limitFailure("{% macro a() %}{% call b() %}x{% endcall %}{% endmacro %}"
                + "{% macro b() %}{{ caller() }}{{ a() }}{% endmacro %}{{ a() }}", Limits.DEFAULT);
    }

    @Test
    void dataNestedDeeperThanTheStackCanWalkFailsAsALimit() {
        JinjaException e = limitFailure("{% set ns = namespace(l=[]) %}{% for i in range(99999) %}"
                + "{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}", Limits.DEFAULT);

        assertTrue(e.getMessage().contains("nested too deeply for the thread's stack"), e.getMessage());
    }

    @Test
    void deeplyNestedExpressionsAreRefusedAtParseTime() {
        JinjaException e = assertThrows(JinjaException.class,
                () -> JinjaTemplate.parse("{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}"));

        assertEquals(JinjaException.Kind.SYNTAX, e.kind());
        assertTrue(e.getMessage().contains("deeper than 100 levels"), e.getMessage());
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{% if x %}".repeat(5000)));
        assertThrows(JinjaException.class, () -> JinjaTemplate.parse("{{ " + "-".repeat(50_000) + "1 }}"));
    }

    @Test
    void rangesAreCappedAsInJinja2sSandbox() {
        JinjaException e = assertThrows(JinjaException.class, () -> render("{{ range(100001) | list }}", SMALL));

        assertEquals("OverflowError", e.pythonType());
        assertEquals("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", e.detail());
    }

    @Test
    void nothingButTheVariablesIsReachable() {
        String probe = "[{{ ''.__class__ }}][{{ range.__globals__ }}][{{ namespace.__init__ }}][{{ self }}]"
                + "[{{ config }}][{{ request }}][{{ lipsum.__module__ }}][{{ cycler.__init__ }}]";

        assertEquals("[][][][][][][][]", render(probe, SMALL));
        JinjaException e = assertThrows(JinjaException.class, () -> render("{{ ''.__class__.__mro__ }}", SMALL));
        assertEquals("SecurityError", e.pythonType());
    }

    @Test
    void variableTextIsNeverParsed() {
        JinjaTemplate template = JinjaTemplate.parse("{{ x }}|{{ x | trim }}|{% for c in [x] %}{{ c }}{% endfor %}");

        String rendered = template.render(Map.of("x", "{{ 7*7 }}{% raw %}"), Clock.systemUTC(), SMALL);

        assertEquals("{{ 7*7 }}{% raw %}|{{ 7*7 }}{% raw %}|{{ 7*7 }}{% raw %}", rendered);
    }

    @Test
    void variablesMustBeDataAndNotTooDeep() {
        JinjaTemplate template = JinjaTemplate.parse("x");

        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> template.render(Map.of("t", Thread.currentThread()), Clock.systemUTC(), SMALL));
        assertTrue(type.getMessage().contains("cannot hold a java.lang.Thread"), type.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> template.render(Map.of("m", Map.of(1, "x")), Clock.systemUTC(), SMALL));
        Object deep = "leaf";
        for (int i = 0; i < 300; i++) {
            deep = List.of(deep);
        }
        Object tooDeep = deep;
        IllegalArgumentException depth = assertThrows(IllegalArgumentException.class,
                () -> template.render(Map.of("d", tooDeep), Clock.systemUTC(), SMALL));
        assertTrue(depth.getMessage().contains("deeper than 256"), depth.getMessage());
    }

    @Test
    void limitsMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Limits(0, 1, 1, 1));

        assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
    }

    @Test
    void oneTemplateRendersConcurrentlyWithoutSharedState() {
        JinjaTemplate template = JinjaTemplate.parse("{% set ns = namespace(n=0) %}{% for i in range(n) %}"
                + "{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}");
        List<String> expected = new ArrayList<>();
        IntStream.range(0, 64).forEach(n -> expected.add(String.valueOf(n * (n - 1) / 2)));

        List<String> rendered = IntStream.range(0, 64).parallel()
                .mapToObj(n -> template.render(Map.of("n", n), Clock.systemUTC(), SMALL)).toList();

        assertEquals(expected, rendered);
    }
}
