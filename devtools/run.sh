#!/usr/bin/env bash
# Serve the portal for development: start the Stripe stand-in, seed the demo vendor, start the job worker, print
# where to click.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
VENV=.venv/bin

# A setting as the portal reads it: from the environment, else from .env.
setting() {
  if [ -n "${!1:-}" ]; then printf '%s\n' "${!1}"; return; fi
  grep -E "^$1=" .env | tail -1 | cut -d= -f2- || true
}
STRIPE_STANDIN_PORT="$(setting STRIPE_STANDIN_PORT)"
STRIPE_STANDIN_PORT="${STRIPE_STANDIN_PORT:-12111}"
if ! [[ "$STRIPE_STANDIN_PORT" =~ ^[0-9]+$ ]]; then
  echo "STRIPE_STANDIN_PORT must be a port number, not '$STRIPE_STANDIN_PORT'." >&2
  exit 1
fi
STRIPE_SECRET_KEY="$(setting STRIPE_SECRET_KEY)"
STRIPE_WEBHOOK_SECRET="$(setting STRIPE_WEBHOOK_SECRET)"
export STRIPE_STANDIN_PORT STRIPE_API_BASE="http://127.0.0.1:$STRIPE_STANDIN_PORT"
# Links in mail that a job writes (it has no request to take the address from) point at this server.
PORTAL_BASE_URL="$(setting PORTAL_BASE_URL)"
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}"

# Another checkout's `make run` (or any server) on either port: say how to choose others before starting anything,
# since this run's stand-in would register the demo's webhook at the other portal's address.
need_free() {  # NAME PORT WHAT
  "$VENV/python" devtools/port_free.py "$2" && return
  echo "Port $2 ($1, for $3) is taken, perhaps by another checkout's make run." >&2
  echo "Choose free ports for this checkout, e.g.  STRIPE_STANDIN_PORT=12112 PORT=5001 make run" >&2
  echo "(.env then keeps the stand-in's port for later runs and for commands run outside make run)." >&2
  exit 1
}
need_free STRIPE_STANDIN_PORT "$STRIPE_STANDIN_PORT" "the Stripe stand-in"
need_free PORT "$PORT" "the portal"

mkdir -p instance
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT INT TERM

"$VENV/python" -m devtools.stripe_standin --port "$STRIPE_STANDIN_PORT" --data-dir instance/stripe --open-accounts \
  --account "$STRIPE_SECRET_KEY:Demo Software Ltd" \
  --webhook "$STRIPE_SECRET_KEY" "http://127.0.0.1:$PORT/stripe/webhook/demo" "$STRIPE_WEBHOOK_SECRET" \
  > instance/stripe-standin.log 2>&1 &
PIDS+=($!)
if ! "$VENV/python" devtools/wait_for.py "$STRIPE_API_BASE/v1/account" "$STRIPE_SECRET_KEY" "${PIDS[-1]}"; then
  if grep -qi "address already in use" instance/stripe-standin.log; then
    echo "The Stripe stand-in could not start: port $STRIPE_STANDIN_PORT was taken a moment ago." >&2
    echo "Choose free ports for this checkout, e.g.  STRIPE_STANDIN_PORT=12112 PORT=5001 make run" >&2
  else
    echo "The Stripe stand-in did not start on port $STRIPE_STANDIN_PORT:" >&2
    cat instance/stripe-standin.log >&2
  fi
  exit 1
fi
# .env records the stand-in of this run (STRIPE_STANDIN_PORT, and STRIPE_API_BASE to match), so commands run later
# outside make run (.venv/bin/flask --app wsgi stripe reconcile, ...) reach it rather than another checkout's.
"$VENV/python" devtools/make_env.py .env "STRIPE_STANDIN_PORT=$STRIPE_STANDIN_PORT" "STRIPE_API_BASE=$STRIPE_API_BASE"

"$VENV/flask" --app wsgi seed-demo
"$VENV/huey_consumer" portal.worker.huey --workers 1 --worker-type thread --delay 0.2 --max-delay 1 --quiet &
PIDS+=($!)

echo "The licensing portal is starting on http://127.0.0.1:$PORT"
"$VENV/flask" --app wsgi show-demo --base-url "http://127.0.0.1:$PORT"
echo "  Stop with Ctrl-C."
"$VENV/flask" --app wsgi run --host 127.0.0.1 --port "$PORT"
