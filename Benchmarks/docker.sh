#!/usr/bin/env bash
# Docker provider benchmark: POST /workspaces → container running (median of RUNS) vs `docker run -d` of the same image,
# and BURST concurrent creates vs BURST sequential `docker run -d`, against a private dockerd, in the same run.
#   Benchmarks/docker.sh        (RUNS=20 BURST=50)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}; BURST=${BURST:-50}
source scripts/install-deps
swift build -c release --product molecule-host >/dev/null
swift build -c release --product molecule-provider-runner >/dev/null
swift build -c release --product ProviderDocker >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d); chmod 755 "$work"
docker_dir=$(mktemp -d /tmp/molecule-bench-dockerd-XXXXXX)
socket=$(scripts/dockerd-private start "$docker_dir")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/host.yaml" <<YAML
listen: 127.0.0.1:$port
state_dir: $work/state
providers:
  - name: docker
    library: $bin/libProviderDocker.so
    threads: 64
    options: {socket: "unix://$socket", image: "molecule-test:busybox", network_mode: host, restart_policy: "no"}
YAML
ADMIN_TOKEN=bench LOG_LEVEL=warning "$bin/molecule-host" serve --config "$work/host.yaml" > "$work/host.log" 2>&1 &
host=$!
cleanup() { kill -INT $host 2>/dev/null; wait $host 2>/dev/null || true; scripts/dockerd-private stop "$docker_dir"; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
python3 Benchmarks/docker_bench.py "http://127.0.0.1:$port" bench "$socket" molecule-test:busybox "$RUNS" "$BURST"
