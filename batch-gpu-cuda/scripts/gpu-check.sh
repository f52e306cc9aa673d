#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, no network, no Maven and perhaps no JDK, runs the
# tests tagged "gpu", a batch through run-batch --backend cuda, and the benchmark (bench --backend cuda
# and the PyTorch baseline with the roofline bound) within 8 minutes, and writes everything to one
# result file, whatever step fails. Prepare it where there is network with scripts/package-gpu-check.sh,
# then carry batch-gpu-cuda/target/gpu-check.tar.xz with the working tree and run, from the
# repository root:
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
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

log() { echo "$*" | tee -a "$RESULT"; }
section() { log ""; log "== $* ($(( $(date +%s) - START )) s)"; }
left() { echo $(( BUDGET_S - ($(date +%s) - START) )); }
# seconds for a step: at most $1, and never into the $2 seconds kept for the steps after it
budget() { local l=$(( $(left) - $2 )); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 10 ] && l=10; echo "$l"; }

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
# ../shared does not travel to the GPU machine: the package carries the files the tests read
SHARED="$ROOT/../shared"
[ -f "$SHARED/models/stories260K.gguf" ] || SHARED="$ROOT/$PKG/shared"
log "test data: $SHARED"
JVM=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Dorg.bytedeco.javacpp.cachedir="$WORK/javacpp"
     -Dbatchllm.shared.dir="$SHARED")
CLI=()
if [ -n "$JAVA" ] && [ -d "$PKG/lib" ]; then
    CLI=("$JAVA" "${JVM[@]}" -Xmx8g -cp "$PKG/lib/*" io.batchllm.cli.Main)
fi

section "gpu tests"
if [ -n "$JAVA" ] && [ -f "$PKG/junit-console.jar" ]; then
    TAGS=(--include-tag gpu)
    if [ "${GPU_CHECK_ALL_TESTS:-0}" = 1 ]; then
        TAGS=()
    fi
    CLASSPATH_JARS=$(ls "$PKG"/lib/*.jar | tr '\n' ':')
    TEST_JAR=$(ls "$PKG"/lib/batch-gpu-cuda-*-tests.jar)
    timeout "$(budget 210 250)" "$JAVA" "${JVM[@]}" -Xmx4g \
        -jar "$PKG/junit-console.jar" execute --disable-banner --disable-ansi-colors --details=tree --class-path "$CLASSPATH_JARS" \
        --scan-class-path "$TEST_JAR" --fail-if-no-tests "${TAGS[@]}" --reports-dir "$WORK/reports" \
        > "$WORK/tests.log" 2>&1
    rc=$?
    grep -v "Using incubator modules" "$WORK/tests.log" | tail -n 400 >> "$RESULT"
    grep -E "tests (successful|failed|skipped|aborted)" "$WORK/tests.log" | sed 's/^/  /' || true
    log "gpu tests exit code: $rc$([ $rc = 124 ] && echo ' (timed out)')"
else
    log "skipped: no Java runtime or no test package"
fi

section "run-batch --backend cuda (stories260K, the llama.cpp reference prompts three times, 32 tokens each)"
if [ ${#CLI[@]} -gt 0 ] && [ -n "$PYTHON" ]; then
    "$PYTHON" - "$SHARED/reference/stories260K-greedy.jsonl" "$WORK/in.jsonl" <<'EOF'
import json, sys
refs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as out:
    for copy in range(3):
        for i, r in enumerate(refs):
            body = {"model": "stories", "prompt": r["prompt"], "max_tokens": 32, "temperature": 0}
            out.write(json.dumps({"custom_id": f"ref-{i}-{copy}", "method": "POST", "url": "/v1/completions",
                                  "body": body}) + "\n")
EOF
    timeout "$(budget 60 190)" "${CLI[@]}" run-batch --backend cuda --model "stories=$SHARED/models/stories260K.gguf" \
        -i "$WORK/in.jsonl" -o "$WORK/out.jsonl" --errors "$WORK/errors.jsonl" --data-dir "$WORK/data" \
        > "$WORK/run-batch.log" 2>&1
    rc=$?
    tail -n 20 "$WORK/run-batch.log" >> "$RESULT"
    log "run-batch exit code: $rc$([ $rc = 124 ] && echo ' (timed out)')"
    if [ -f "$WORK/out.jsonl" ]; then
        "$PYTHON" - "$SHARED/reference/stories260K-greedy.jsonl" "$WORK/out.jsonl" <<'EOF' 2>&1 | tee -a "$RESULT"
import json, sys
refs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
lines = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
good = 0
for line in lines:
    i = int(line["custom_id"].split("-")[1])
    body = line["response"]["body"]
    text = body["choices"][0]["text"]
    ok = line["response"]["status_code"] == 200 and text and refs[i]["output_text"].startswith(text)
    good += ok
    if not ok:
        print(f"  {line['custom_id']}: {text!r} is not a prefix of llama.cpp's {refs[i]['output_text'][:80]!r}")
print(f"run-batch: {good} of {len(lines)} lines (12 expected) completed with llama.cpp's greedy text")
EOF
    fi
else
    log "skipped: no Java runtime, package or python3"
fi

section "benchmark: PyTorch baseline and roofline"
if [ -n "$PYTHON" ] && "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    timeout "$(budget 110 140)" "$PYTHON" batch-gpu-cuda/scripts/pytorch_baseline.py 2>&1 | tee -a "$RESULT"
    log "baseline exit code: ${PIPESTATUS[0]}"
else
    log "skipped: no python3 with a CUDA-enabled PyTorch"
fi

section "benchmark: bench --backend cuda (synthetic Llama-3.2-1B shape, bf16, PP 128, TG 128)"
if [ ${#CLI[@]} -gt 0 ]; then
    # writing the 2.5 GB synthetic model takes most of a minute; bench prints progress on stderr
    timeout "$(budget 200 5)" "${CLI[@]}" bench --backend cuda --model synthetic:1B-bf16 --cache-dir "$WORK/models" \
        --parallel 1,64,256 --prompt-tokens 128 --gen-tokens 128 2>&1 | grep -v "Using incubator modules" | tee -a "$RESULT"
    rc=${PIPESTATUS[0]}
    log "bench exit code: $rc$([ "$rc" = 124 ] && echo ' (timed out)')"
else
    log "skipped: no Java runtime or package"
fi

section "done in $(( $(date +%s) - START )) s (budget $BUDGET_S s)"
