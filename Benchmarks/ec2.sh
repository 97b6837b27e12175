#!/usr/bin/env bash
# EC2 provider benchmark against moto_server and a loopback sshd, baselines measured in the same run:
#   - POST /workspaces → instance running with its configs volume attached (moto's view), vs boto3 RunInstances → running
#   - PUT and GET of a file through the Host (one libssh session per verb), vs the ssh CLI doing the same cat
#   - BURST concurrent creates vs BURST sequential boto3 RunInstances
#   Benchmarks/ec2.sh        (RUNS=20 BURST=20)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}; BURST=${BURST:-20}
source scripts/install-deps
swift build -c release --product molecule-host >/dev/null
swift build -c release --product molecule-provider-runner >/dev/null
swift build -c release --product ProviderEC2 >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d); chmod 755 "$work"
moto_dir=$(mktemp -d /tmp/molecule-bench-moto-XXXXXX)
sshd_dir=$(mktemp -d /tmp/molecule-bench-sshd-XXXXXX)
endpoint=$(scripts/moto-private start "$moto_dir")
ssh_target=$(scripts/sshd-private start "$sshd_dir")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/host.yaml" <<YAML
listen: 127.0.0.1:$port
state_dir: $work/state
providers:
  - name: ec2
    library: $bin/libProviderEC2.so
    threads: 64
    options:
      endpoint: $endpoint
      access_key_id: bench
      secret_access_key: bench
      owner: bench
      ami: ami-12c6146b
      state_dir: $work/ec2
      poll_interval_ms: 20
      wait_for_bootstrap: false   # moto runs no user-data
      roots: {default: "$work/files/{workspace_id}"}
      ssh: {mode: static-key, user: root, sudo: false, override: "$ssh_target", key_path: "$sshd_dir/client_ed25519"}
YAML
ADMIN_TOKEN=bench LOG_LEVEL=warning "$bin/molecule-host" serve --config "$work/host.yaml" > "$work/host.log" 2>&1 &
host=$!
cleanup() {
  kill -INT $host 2>/dev/null; wait $host 2>/dev/null || true
  scripts/moto-private stop "$moto_dir"; scripts/sshd-private stop "$sshd_dir"; rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
python3 Benchmarks/ec2_bench.py "http://127.0.0.1:$port" bench "$endpoint" "$ssh_target" "$sshd_dir/client_ed25519" "$work/files" "$RUNS" "$BURST"
