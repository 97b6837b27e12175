#!/usr/bin/env bash
# Pause/resume benchmark: p50/p95 of POST /workspaces/:id/pause and /resume on the Process provider (cgroup freezer and
# session containment) for a workload that forks in a tight loop, against Docker's own pause/unpause through the
# Engine API on a container doing the same (the baseline), in the same run, against a private dockerd.
#   Benchmarks/pause.sh        (CYCLES=200, BUILD=release; BUILD=debug reuses the test build)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${CYCLES:-200}; BUILD=${BUILD:-release}
source scripts/install-deps
for product in molecule-host molecule-provider-runner molecule-workload-supervisor molecule-agent ProviderProcess; do
  swift build -c "$BUILD" --product "$product" >/dev/null
done
bin=$(swift build -c "$BUILD" --show-bin-path)
work=$(mktemp -d); chmod 755 "$work"
docker_dir=$(mktemp -d /tmp/molecule-bench-dockerd-XXXXXX)
socket=$(scripts/dockerd-private start "$docker_dir")
hosts=(); urls=()
for mode in cgroup session; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/$mode"
  cat > "$work/$mode/host.yaml" <<YAML
listen: 127.0.0.1:$port
state_dir: $work/$mode/state
providers:
  - name: process
    library: $bin/libProviderProcess.so
    options: {state_dir: $work/$mode/state/process, containment: $mode}
YAML
  ADMIN_TOKEN=bench LOG_LEVEL=warning "$bin/molecule-host" serve --config "$work/$mode/host.yaml" > "$work/$mode/host.log" 2>&1 &
  hosts+=($!); urls+=("process ($mode)=http://127.0.0.1:$port")
done
cleanup() {
  for pid in "${hosts[@]}"; do kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  for mode in cgroup session; do scripts/stop-workloads "$work/$mode/state/process" || true; done
  scripts/dockerd-private stop "$docker_dir"; rm -rf "$work"
}
trap cleanup EXIT
for url in "${urls[@]}"; do
  for _ in $(seq 1 120); do curl -sf "${url#*=}/health" >/dev/null && break; sleep 0.5; done
done
python3 Benchmarks/pause_bench.py bench "$socket" molecule-test:busybox "$CYCLES" "${urls[@]}"
