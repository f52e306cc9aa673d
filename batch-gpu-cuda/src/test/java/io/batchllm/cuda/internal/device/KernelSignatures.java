package io.batchllm.cuda.internal.device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads each kernel's parameter kinds from its C signature, to check launches against. */
final class KernelSignatures {
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");

    private KernelSignatures() {
    }

    static Map<String, List<KernelArgs.Kind>> parse(String source) {
        Map<String, List<KernelArgs.Kind>> out = new LinkedHashMap<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) {
            List<KernelArgs.Kind> kinds = new ArrayList<>();
            for (String param : m.group(2).split(",")) {
                kinds.add(kind(param.strip().replaceAll("\\s+", " ")));
            }
            out.put(m.group(1), List.copyOf(kinds));
        }
        return out;
    }

    private static KernelArgs.Kind kind(String param) {
        if (param.contains("*")) {
            return KernelArgs.Kind.POINTER;
        }
        String type = param.substring(0, param.lastIndexOf(' '));
        return switch (type) {
            case "int", "unsigned int" -> KernelArgs.Kind.I32;
            case "long long", "unsigned long long", "u64" -> KernelArgs.Kind.I64;
            case "float" -> KernelArgs.Kind.F32;
            case "double" -> KernelArgs.Kind.F64;
            default -> throw new IllegalArgumentException("unknown kernel parameter type in '" + param + "'");
        };
    }
}
