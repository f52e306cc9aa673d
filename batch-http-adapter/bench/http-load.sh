#!/usr/bin/env bash
# HTTP server load benchmark (by hand, not part of CI): docs/performance.md, "HTTP server".
#   1. wrk, 200 connections for 30 s, against GET /v1/batches/{id} and GET /v1/files;
#   2. a 200 MB batch file uploaded (curl, streamed) to a server running with -Xmx256m.
# Needs: batch-http-adapter/target/batchllm.jar (mvn -q -pl batch-http-adapter -am package -DskipTests),
# wrk (apt-get install wrk), curl. Usage: batch-http-adapter/bench/http-load.sh [DURATION] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-30s}
CONNECTIONS=${2:-200}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
JAR=batch-http-adapter/target/batchllm.jar
PORT=${PORT:-18080}
WORK=$(mktemp -d /tmp/batchllm-http-bench.XXXXXX)
BASE=http://127.0.0.1:$PORT
FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"

start_server() { # $1: heap
  $JAVA $FLAGS -Xmx"$1" -jar "$JAR" serve --port "$PORT" --auth none --data-dir "$WORK/data" \
      > "$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do curl -fs "$BASE/ready" > /dev/null 2>&1 && return; sleep 0.2; done
  echo "server did not become ready; see $WORK/server.log" >&2; exit 1
}
stop_server() { kill -TERM "$SERVER"; wait "$SERVER" || true; }
trap 'kill -TERM ${SERVER:-0} 2>/dev/null || true' EXIT

echo "machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start_server 1g
# Some content to read: 20 files and one finished batch on the demo model.
LINE='{"custom_id":"c","method":"POST","url":"/v1/chat/completions","body":{"model":"demo","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":4}}'
printf '%s\n' "$LINE" > "$WORK/in.jsonl"
for i in $(seq 1 20); do
  FILE=$(curl -fs -F purpose=batch -F file=@"$WORK/in.jsonl" "$BASE/v1/files" | sed 's/.*"id":"\([^"]*\)".*/\1/')
done
BATCH=$(curl -fs -H 'Content-Type: application/json' -d "{\"input_file_id\":\"$FILE\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}" \
    "$BASE/v1/batches" | sed 's/.*"id":"\(batch_[^"]*\)".*/\1/')
for path in "/v1/batches/$BATCH" "/v1/files"; do
  echo "== wrk -t2 -c$CONNECTIONS -d$DURATION --latency $BASE$path"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$BASE$path" | grep -E "Requests/sec|Non-2xx|Socket errors|50%|99%|requests in"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
stop_server

echo "== 200 MB upload, server -Xmx256m"
rm -rf "$WORK/data"
start_server 256m
python3 - "$WORK/big.jsonl" <<'PY'
import sys
line = ('{"custom_id":"c%08d","method":"POST","url":"/v1/chat/completions","body":{"model":"demo",'
        '"messages":[{"role":"user","content":"' + 'x' * 250 + '"}]}}\n')
target = 200 * 1000 * 1000 - 1000
with open(sys.argv[1], 'w') as f:
    n = 0; i = 0
    while n + len(line % i) <= target:
        s = line % i; f.write(s); n += len(s); i += 1
PY
ls -l "$WORK/big.jsonl" | awk '{print "file bytes:", $5}'
/usr/bin/time -f "curl wall %e s" curl -fs -o "$WORK/upload.json" -w "HTTP %{http_code}, upload %{speed_upload} B/s\n" \
    -F purpose=batch -F file=@"$WORK/big.jsonl" "$BASE/v1/files"
head -c 300 "$WORK/upload.json"; echo
grep -o 'VmHWM:.*' /proc/"$(pgrep -f "serve --port $PORT" | head -1)"/status || true
grep -c OutOfMemoryError "$WORK/server.log" | sed 's/^/OutOfMemoryError lines in server log: /'
stop_server
rm -rf "$WORK"
