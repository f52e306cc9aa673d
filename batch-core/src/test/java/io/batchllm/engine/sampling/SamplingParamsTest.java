package io.batchllm.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    @Test
    void defaultsAreOpenAis() {
        SamplingParams p = SamplingParams.builder().build();
        assertNull(p.maxTokens());
        assertEquals(1.0, p.temperature());
        assertEquals(1.0, p.topP());
        assertEquals(0, p.topK());
        assertEquals(1, p.n());
        assertFalse(p.greedy());
        assertFalse(p.penalized());
        assertEquals(p, p.toBuilder().build());
    }

    @Test
    void rejectsImpossibleValuesNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplingParams.builder().temperature(2.5).build());
        assertTrue(e.getMessage().startsWith("temperature must be between 0.0 and 2.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(Double.NaN).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().n(129).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().stop(List.of("")).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().logitBias(Map.of(1, 101f)).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().maxTokens(0).build());
    }

    @Test
    void greedyMeansTemperatureZeroOrTopKOne() {
        assertTrue(SamplingParams.builder().temperature(0).build().greedy());
        assertTrue(SamplingParams.builder().topK(1).build().greedy());
        assertTrue(SamplingParams.builder().presencePenalty(0.1).build().penalized());
    }
}
