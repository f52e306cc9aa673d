#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, no network, no Maven and perhaps no JDK, runs the
# tests tagged "gpu" and the benchmark within 8 minutes and writes everything to one result file.
# Prepare it where there is network with scripts/package-gpu-check.sh, then carry
# batch-gpu-cuda/target/gpu-check.tar.xz with the working tree and run, from the repository root:
#
#   bash batch-gpu-cuda/scripts/gpu-check.sh [RESULT_FILE]     # default: $OUT/gpu-check-result.txt
#
# It finds cuBLAS, NVRTC and the CUDA runtime (libcublas.so.13, libcublasLt.so.13, libnvrtc.so.13,
# libcudart.so.13) in the CUDA toolkit or in the NVIDIA wheels of the Python environment that holds
# PyTorch, and puts their directories on LD_LIBRARY_PATH; the driver's libcuda.so.1 and
# libnvidia-ml.so.1 come from the system. GPU_CHECK_ALL_TESTS=1 also runs the tests that need no GPU
# (the kernel emulator needs g++), which is how the package is tried on a CPU machine.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RESULT="${1:-${OUT:-.}/gpu-check-result.txt}"
TARGET=batch-gpu-cuda/target
PKG=$TARGET/gpu-check
BUDGET_S=${GPU_CHECK_BUDGET_S:-480}
START=$(date +%s)
mkdir -p "$(dirname "$RESULT")"
: > "$RESULT"

log() { echo "$*" | tee -a "$RESULT"; }
section() { log ""; log "== $* ($(( $(date +%s) - START )) s)"; }
left() { echo $(( BUDGET_S - ($(date +%s) - START) )); }

section "gpu-check"
log "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "host: $(uname -srm), $(nproc) CPUs"
if [ ! -x "$PKG/jre/bin/java" ] && [ -f "$TARGET/gpu-check.tar.xz" ]; then
    tar -C "$TARGET" -xJf "$TARGET/gpu-check.tar.xz" 2>/dev/null \
        || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$TARGET/gpu-check.tar.xz" "$TARGET"
fi
if [ -f "$PKG/COMMIT" ]; then
    log "package built from commit: $(tr '\n' ' ' < "$PKG/COMMIT")"
fi
log "working tree commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"

section "device"
if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,compute_cap --format=csv 2>&1 | tee -a "$RESULT"
else
    log "nvidia-smi: not found (no NVIDIA driver on this machine)"
fi

section "CUDA libraries"
candidates=()
for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-13*; do
    [ -n "$d" ] && candidates+=("$d/lib64" "$d/lib" "$d/targets/x86_64-linux/lib")
done
candidates+=(/usr/lib/x86_64-linux-gnu /usr/lib64)
PYTHON=$(command -v python3 || true)
if [ -n "$PYTHON" ]; then
    while IFS= read -r sp; do
        for d in "$sp"/nvidia/*/lib "$sp"/nvidia/*/*/lib; do
            [ -d "$d" ] && candidates+=("$d")
        done
    done < <("$PYTHON" -c 'import site; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
fi
LIBPATH=""
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13; do
    found=""
    for d in "${candidates[@]}"; do
        if [ -e "$d/$lib" ]; then
            found=$d
            break
        fi
    done
    if [ -n "$found" ]; then
        log "$lib: $found"
        case ":$LIBPATH:" in *":$found:"*) ;; *) LIBPATH="${LIBPATH:+$LIBPATH:}$found" ;; esac
    else
        log "$lib: not found (searched the toolkit and the Python environment's NVIDIA wheels)"
    fi
done
export LD_LIBRARY_PATH="${LIBPATH}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

section "Java"
JAVA=""
for j in "$PKG/jre/bin/java" "${JAVA_HOME:-}/bin/java" "$(command -v java || true)"; do
    if [ -x "$j" ] && "$j" -version 2>&1 | grep -q 'version "2[5-9]'; then
        JAVA=$j
        break
    fi
done
if [ -z "$JAVA" ]; then
    log "no Java 25 runtime: build the package with batch-gpu-cuda/scripts/package-gpu-check.sh and carry it"
else
    log "java: $JAVA ($("$JAVA" -version 2>&1 | head -1))"
fi

section "gpu tests"
if [ -n "$JAVA" ] && [ -f "$PKG/junit-console.jar" ]; then
    TAGS=(--include-tag gpu)
    if [ "${GPU_CHECK_ALL_TESTS:-0}" = 1 ]; then
        TAGS=()
    fi
    CACHE=$(mktemp -d)
    CLASSPATH_JARS=$(ls "$PKG"/lib/*.jar | tr '\n' ':')
    TEST_JAR=$(ls "$PKG"/lib/batch-gpu-cuda-*-tests.jar)
    timeout $(( $(left) - 150 )) "$JAVA" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx4g \
        -Dorg.bytedeco.javacpp.cachedir="$CACHE" -Dbatchllm.shared.dir="$ROOT/../shared" \
        -jar "$PKG/junit-console.jar" execute --disable-banner --disable-ansi-colors --details=tree --class-path "$CLASSPATH_JARS" \
        --scan-class-path "$TEST_JAR" --fail-if-no-tests "${TAGS[@]}" --reports-dir "$CACHE/reports" \
        > "$CACHE/tests.log" 2>&1
    rc=$?
    grep -v "Using incubator modules" "$CACHE/tests.log" | tail -n 400 >> "$RESULT"
    grep -E "tests (successful|failed|skipped|aborted)" "$CACHE/tests.log" | sed 's/^/  /' || true
    log "gpu tests exit code: $rc$([ $rc = 124 ] && echo ' (timed out)')"
    rm -rf "$CACHE"
else
    log "skipped: no Java runtime or no test package"
fi

section "benchmark: PyTorch baseline and roofline"
if [ -n "$PYTHON" ] && "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    timeout $(( $(left) - 30 )) "$PYTHON" batch-gpu-cuda/scripts/pytorch_baseline.py 2>&1 | tee -a "$RESULT"
    log "baseline exit code: ${PIPESTATUS[0]}"
else
    log "skipped: no python3 with a CUDA-enabled PyTorch"
fi

section "benchmark: bench --backend cuda"
log "not run: the CUDA executor is not wired to the engine in this build (phase 2 of the CUDA backend issue)"

section "done in $(( $(date +%s) - START )) s (budget $BUDGET_S s)"
