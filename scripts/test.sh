#!/usr/bin/env bash
# Run pytest with a real Redis: a throwaway redis-server on a free port when REDIS_URL is unset and
# redis-server exists; it is stopped afterwards whatever the tests did.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

redis_pid=""
redis_log=""
cleanup() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  [ -z "$redis_log" ] || rm -f "$redis_log"
}
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ] && command -v redis-server >/dev/null; then
  port="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # No persistence: test data must not outlive the run or land in the working tree.
  redis_log="$(mktemp)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$redis_log" 2>&1 &
  redis_pid=$!
  ready=""
  for _ in $(seq 1 50); do
    if "$VENV/bin/python" -c "import redis; redis.Redis(port=$port).ping()" 2>/dev/null; then
      ready=1
      break
    fi
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$ready" ]; then
    echo "redis-server did not start:" >&2
    cat "$redis_log" >&2
    exit 1
  fi
  export REDIS_URL="redis://127.0.0.1:$port/0"
  echo "using a throwaway redis-server at $REDIS_URL"
fi

"$VENV/bin/pytest" -q "$@"
