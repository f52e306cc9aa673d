#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster from Debian's packages on 127.0.0.1:$PGPORT and prints the
# JDBC URL. Stop it with: .ci/postgres.sh stop
set -euo pipefail
PGPORT=${PGPORT:-54329}
STATE=/tmp/batchllm-ci-pgdata
if [ "${1:-}" = "stop" ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ -d "$STATE" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$STATE" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$STATE"
  exit 0
fi
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
"$0" stop
mkdir -p "$STATE" && chown postgres "$STATE"
runuser -u postgres -- "$PGBIN/initdb" -D "$STATE" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$STATE" -l "$STATE/log" -w start \
  -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null
echo "jdbc:postgresql://127.0.0.1:$PGPORT/postgres?user=postgres"
