#!/bin/sh
# CI for the __PROVIDER__ provider: build, check the exports and the manifest note, run the contract suite.
#   MOLECULE_HOST=/path/to/molecule-host ./ci.sh
# Exits non-zero when the build, the export check or any contract case fails.
set -eu
cd "$(dirname "$0")"

MOLECULE_HOST="${MOLECULE_HOST:-molecule-host}"

make
make check

# A fresh state directory per run, removed afterwards (the stub backend keeps its workspaces in it).
MOLECULE_CONTRACT_STATE_DIR="$(mktemp -d)"
export MOLECULE_CONTRACT_STATE_DIR
trap 'rm -rf "$MOLECULE_CONTRACT_STATE_DIR"' EXIT INT TERM

# The JUnit and JSON reports go to $REPORTS (default: reports), also when a case fails.
REPORTS="${REPORTS:-reports}"
mkdir -p "$REPORTS"
"$MOLECULE_HOST" contract --provider ./lib__PROVIDER__.so --config contract.yaml --profile core \
  --junit "$REPORTS/contract.xml" --report "$REPORTS/contract.json"
