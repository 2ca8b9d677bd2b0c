#!/usr/bin/env bash
# Run the whole suite twice, on SQLite and on PostgreSQL, each spread over both cores (one database per worker).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests…"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || { echo "Could not install chromium"; exit 1; }
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
WORKERS="${TEST_WORKERS:-2}"
status=0

# pytest's exit 5 means no test was selected: the long run may have none yet, which is no failure.
run() {
  "$PY" -m pytest -n "$WORKERS" -p no:cacheprovider "$@"
  local code=$?
  if [ "$code" = 5 ] && [ -n "${LONG:-}" ]; then return 0; fi
  return $code
}

echo "=== Tests on SQLite"
PORTAL_TEST_DATABASE=sqlite run "$@" || status=1

if $PY devtools/pg_ready.py "$PG_URL"; then
  echo "=== Tests on PostgreSQL ($PG_URL)"
  PORTAL_TEST_DATABASE="$PG_URL" run "$@" || status=1
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required under CI but is not reachable at $PG_URL" >&2
  status=1
else
  echo "!!! PostgreSQL not reachable at $PG_URL: the PostgreSQL half was NOT run." >&2
fi
exit $status
