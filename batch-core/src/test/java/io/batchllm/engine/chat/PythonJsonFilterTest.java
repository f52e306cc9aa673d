package io.batchllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Floats in tojson are written as Python's repr writes them (expected values from CPython 3). */
class PythonJsonFilterTest {

    @Test
    void floatsAreWrittenAsPythonRepr() {
        assertEquals("1e+16", PythonJsonFilter.pythonFloat(1e16));
        assertEquals("1e+22", PythonJsonFilter.pythonFloat(1e22));
        assertEquals("1.5e-05", PythonJsonFilter.pythonFloat(1.5e-05));
        assertEquals("10000000.0", PythonJsonFilter.pythonFloat(10000000.0));
        assertEquals("0.0001", PythonJsonFilter.pythonFloat(0.0001));
        assertEquals("-2.0", PythonJsonFilter.pythonFloat(-2.0));
        assertEquals("123456789012345.6", PythonJsonFilter.pythonFloat(123456789012345.6));
        assertEquals("0.30000000000000004", PythonJsonFilter.pythonFloat(0.1 + 0.2));
        assertEquals("NaN", PythonJsonFilter.pythonFloat(Double.NaN));
    }
}
