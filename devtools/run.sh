#!/usr/bin/env bash
# Serve the portal for development: seed the demo vendor, start the job worker, print where to click.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
VENV=.venv/bin

"$VENV/flask" --app wsgi seed-demo
"$VENV/huey_consumer" portal.worker.huey --workers 1 --worker-type thread --delay 0.2 --max-delay 1 --quiet &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM

echo "The licensing portal is starting on http://127.0.0.1:$PORT"
"$VENV/flask" --app wsgi show-demo --base-url "http://127.0.0.1:$PORT"
echo "  Stop with Ctrl-C."
"$VENV/flask" --app wsgi run --host 127.0.0.1 --port "$PORT"
