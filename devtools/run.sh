#!/usr/bin/env bash
# Serve the portal for development: start the Stripe stand-in, seed the demo vendor, start the job worker, print
# where to click.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
VENV=.venv/bin

setting() { grep -E "^$1=" .env | tail -1 | cut -d= -f2-; }
STRIPE_STANDIN_PORT="$(setting STRIPE_STANDIN_PORT)"
STRIPE_STANDIN_PORT="${STRIPE_STANDIN_PORT:-12111}"
STRIPE_SECRET_KEY="$(setting STRIPE_SECRET_KEY)"
STRIPE_WEBHOOK_SECRET="$(setting STRIPE_WEBHOOK_SECRET)"
export STRIPE_API_BASE="http://127.0.0.1:$STRIPE_STANDIN_PORT"
# Links in mail that a job writes (it has no request to take the address from) point at this server.
PORTAL_BASE_URL="$(setting PORTAL_BASE_URL)"
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}"

mkdir -p instance
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT INT TERM

"$VENV/python" -m devtools.stripe_standin --port "$STRIPE_STANDIN_PORT" --data-dir instance/stripe \
  --account "$STRIPE_SECRET_KEY:Demo Software Ltd" \
  --webhook "$STRIPE_SECRET_KEY" "http://127.0.0.1:$PORT/stripe/webhook/demo" "$STRIPE_WEBHOOK_SECRET" \
  > instance/stripe-standin.log 2>&1 &
PIDS+=($!)
"$VENV/python" devtools/wait_for.py "$STRIPE_API_BASE/v1/account" "$STRIPE_SECRET_KEY" \
  || { echo "The Stripe stand-in did not start (is port $STRIPE_STANDIN_PORT taken?):"; cat instance/stripe-standin.log; exit 1; }

"$VENV/flask" --app wsgi seed-demo
"$VENV/huey_consumer" portal.worker.huey --workers 1 --worker-type thread --delay 0.2 --max-delay 1 --quiet &
PIDS+=($!)

echo "The licensing portal is starting on http://127.0.0.1:$PORT"
"$VENV/flask" --app wsgi show-demo --base-url "http://127.0.0.1:$PORT"
echo "  Stop with Ctrl-C."
"$VENV/flask" --app wsgi run --host 127.0.0.1 --port "$PORT"
