#!/usr/bin/env bash
# Heartbeat benchmark: the Host's POST /registry/heartbeat at N registered workspaces (wrk, loopback) beside pgbench
# running a single-row UPDATE of the same table on the same PostgreSQL, measured in the same run; plus the Host's
# resident memory idle and with N workspaces registered.
#   Benchmarks/heartbeat.sh            (N=10000 DURATION=10 CONNECTIONS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}; DURATION=${DURATION:-10}; CONNECTIONS=${CONNECTIONS:-64}
source scripts/install-deps
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product molecule-host >/dev/null
swift build -c release --product molecule-provider-runner >/dev/null
swift build -c release --product ProviderProcess >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d); chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADMIN_TOKEN=bench-admin MOLECULE_STATE_DIR="$work/state" PORT=$port LOG_LEVEL=warning "$bin/molecule-host" serve > "$work/host.log" 2>&1 &
host=$!
cleanup() { kill -INT $host 2>/dev/null; wait $host 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
rss() { awk '/VmRSS/ {print $2}' /proc/$host/status; }
sleep 1; idle=$(rss)
python3 Benchmarks/seed_workspaces.py "http://127.0.0.1:$port" bench-admin "$N" "$work/tokens.txt"
sleep 1; loaded=$(rss)

echo "heartbeats: wrk -c $CONNECTIONS for ${DURATION}s over $N workspaces"
TOKENS="$work/tokens.txt" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s Benchmarks/heartbeat.lua "http://127.0.0.1:$port" | tee "$work/wrk.txt" | grep -E "Requests/sec|WRK"
socket="$work/state/postgres"
export PGPASSWORD="$(cat "$work/state/postgres.password")"  # the embedded server requires its generated password
runuser -u postgres --preserve-environment -- psql -q -h "$socket" -U postgres -c \
  "CREATE TABLE bench_ids AS SELECT row_number() OVER () AS n, id FROM workspaces; CREATE UNIQUE INDEX ON bench_ids (n);"
cat > "$work/update.sql" <<SQL
\set n random(1, $N)
UPDATE workspaces SET error_rate = 0.01, active_tasks = 1, last_heartbeat_at = now(), updated_at = now() WHERE id = (SELECT id FROM bench_ids WHERE n = :n);
SQL
chmod 644 "$work/update.sql"
echo "baseline: pgbench -c $CONNECTIONS for ${DURATION}s, single-row UPDATE of workspaces"
runuser -u postgres --preserve-environment -- pgbench -n -h "$socket" -U postgres -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "$work/update.sql" postgres \
  | tee "$work/pgbench.txt" | grep -E "^tps|latency average"

python3 - "$work" "$idle" "$loaded" "$N" <<'PY'
import re, sys
work, idle, loaded, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
w = dict(kv.split("=") for kv in re.search(r"WRK (.*)", open(f"{work}/wrk.txt").read()).group(1).split())
rate = int(w["requests"]) / (int(w["duration_us"]) / 1e6)
tps = float(re.search(r"tps = ([\d.]+)", open(f"{work}/pgbench.txt").read()).group(1))
print()
print(f"heartbeats/s        {rate:10.0f}   p50 {int(w['p50_us'])/1000:.2f} ms   p99 {int(w['p99_us'])/1000:.2f} ms   errors {w['errors']} non-2xx {w['non2xx']}")
print(f"pgbench UPDATE tps  {tps:10.0f}")
print(f"ratio               {rate/tps:10.2f}x   (target >= 2x; p99 target < 10 ms)")
print(f"RSS idle            {idle/1024:10.1f} MB   (target <= 60 MB)")
print(f"RSS with {n} ws  {loaded/1024:10.1f} MB   (+{(loaded-idle)/1024:.1f} MB; target <= +20 MB)")
PY
