#!/usr/bin/env bash
# Engine A/B benchmark (by hand, not part of CI): `bench` decode and prompt throughput of two commits,
# measured in the same run and alternating (A B B A A B …), so that a change in the machine's speed hits
# both alike. docs/performance.md, "The device contract, before and after".
#
# Usage: batch-http-adapter/bench/engine-ab.sh BASE_COMMIT NEW_COMMIT [ROUNDS]
#   ROUNDS (default 6) invocations of bench per commit and model; each reports the median of REPS rounds.
# Environment (defaults in brackets):
#   MODELS   ["synthetic:110M-f32 synthetic:110M-q8_0"]   PARALLEL [1,32]   PP [128]   TG [128]
#   THREADS  [all processors]   REPS [3]   JAVA_OPTS [-Xmx6g]   WORK [/tmp/batchllm-ab]
# Needs JDK 25 (JAVA_HOME), Maven and python3. Each commit is exported with `git archive` into
# $WORK/src-<commit> and built there once (`mvn package -DskipTests`, nothing installed); synthetic
# models are written once into $WORK/models and shared by both jars. Results: $WORK/results-*.jsonl,
# and a table of medians on stdout.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BASE=${1:?usage: engine-ab.sh BASE_COMMIT NEW_COMMIT [ROUNDS]}
NEW=${2:?usage: engine-ab.sh BASE_COMMIT NEW_COMMIT [ROUNDS]}
ROUNDS=${3:-6}
MODELS=${MODELS:-"synthetic:110M-f32 synthetic:110M-q8_0"}
PARALLEL=${PARALLEL:-1,32}
PP=${PP:-128}
TG=${TG:-128}
THREADS=${THREADS:-$(nproc)}
REPS=${REPS:-3}
JAVA_OPTS=${JAVA_OPTS:--Xmx6g}
WORK=${WORK:-/tmp/batchllm-ab}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
mkdir -p "$WORK/models"

build() { # $1: commit; prints the path of its batchllm.jar
  local rev dir
  rev=$(git -C "$REPO" rev-parse --short=10 "$1^{commit}")
  dir=$WORK/src-$rev
  if [ ! -f "$dir/batch-http-adapter/target/batchllm.jar" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    git -C "$REPO" archive "$rev" | tar -x -C "$dir"
    echo "building $rev in $dir" >&2
    (cd "$dir" && JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} \
        mvn -B -q -pl batch-http-adapter -am package -DskipTests -Djacoco.skip=true >&2)
  fi
  echo "$dir/batch-http-adapter/target/batchllm.jar"
}

bench() { # $1: jar, $2: model, then extra arguments
  local jar=$1 model=$2
  shift 2
  # shellcheck disable=SC2086
  "$JAVA" $FLAGS $JAVA_OPTS -jar "$jar" bench --model "$model" --cache-dir "$WORK/models" --threads "$THREADS" "$@"
}

BASE_JAR=$(build "$BASE")
NEW_JAR=$(build "$NEW")
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$WORK/results-$STAMP.jsonl
echo "machine: $(nproc) processors, $THREADS threads; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "base $BASE ($BASE_JAR), new $NEW ($NEW_JAR); models $MODELS; B=$PARALLEL, PP=$PP, TG=$TG, $ROUNDS rounds of $REPS" >&2

for model in $MODELS; do
  # writes the synthetic model once, outside the timed runs
  bench "$NEW_JAR" "$model" --parallel 1 --prompt-tokens 1 --gen-tokens 1 --json > /dev/null
  for round in $(seq 1 "$ROUNDS"); do
    # A B, then B A: an ABBA order cancels a linear drift
    if [ $((round % 2)) -eq 1 ]; then order="base new"; else order="new base"; fi
    for side in $order; do
      jar=$BASE_JAR
      [ "$side" = new ] && jar=$NEW_JAR
      json=$(bench "$jar" "$model" --parallel "$PARALLEL" --prompt-tokens "$PP" --gen-tokens "$TG" \
          --repetitions "$REPS" --json 2>/dev/null)
      python3 -c 'import json,sys; [print(json.dumps(dict(o, side=sys.argv[1], round=int(sys.argv[2]), load=sys.argv[3])))
                  for o in json.loads(sys.argv[4])]' "$side" "$round" "$(cut -d' ' -f1 /proc/loadavg)" "$json" >> "$OUT"
      echo "  $model round $round $side done" >&2
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); raw results in $OUT" >&2

python3 - "$OUT" <<'PY'
import json, statistics, sys, os
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    key = (os.path.basename(r["model"]), r["parallel"])
    groups.setdefault(key, {}).setdefault(r["side"], []).append(r)
print("| model | B | base S_TG t/s | new S_TG t/s | new/base | base S_PP t/s | new S_PP t/s | new/base | runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for (model, b), sides in sorted(groups.items()):
    def med(side, key):
        return statistics.median(r[key] for r in sides.get(side, []))
    tg = (med("base", "decode_tokens_per_second"), med("new", "decode_tokens_per_second"))
    pp = (med("base", "prompt_tokens_per_second"), med("new", "prompt_tokens_per_second"))
    n = min(len(sides.get("base", [])), len(sides.get("new", [])))
    print(f"| {model} | {b} | {tg[0]:.2f} | {tg[1]:.2f} | {tg[1] / tg[0]:.3f} | {pp[0]:.1f} | {pp[1]:.1f} "
          f"| {pp[1] / pp[0]:.3f} | {n} |")
PY
