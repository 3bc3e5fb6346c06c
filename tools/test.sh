#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy, strict for engine/), then pytest on SQLite and on a
# throwaway PostgreSQL cluster started here and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
.venv/bin/ruff check engine web tests tools
.venv/bin/mypy engine web
pgdir=""
cleanup() {
  if [ -n "$pgdir" ] && [ -d "$pgdir" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
  fi
}
trap cleanup EXIT
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && [ "$(id -u)" = "0" ]; then
  pgdir=$(mktemp -d /tmp/eco-pg.XXXXXX)
  chown postgres "$pgdir"
  port=$(( 20000 + RANDOM % 20000 ))
  runuser -u postgres -- "$PGBIN/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off -c max_connections=200" start >/dev/null
  export ECO_TEST_POSTGRES="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL for tests on port $port"
else
  echo "PostgreSQL not available: tests run on SQLite only" >&2
fi
"$PY" -m pytest -q "$@"
