#!/usr/bin/env bash
# Builds the __PROVIDER__ provider and runs the Molecule Host contract suite against it (the core profile).
#
#   ./ci.sh                     molecule-host (and molecule-provider-runner beside it) on PATH
#   MOLECULE_HOST=/path/to/molecule-host ./ci.sh
#
# Environment: MOLECULE_HOST (default: molecule-host), MOLECULE_HOST_PACKAGE_URL (where ProviderKit comes from;
# default: the Package.swift's URL), CONFIGURATION (debug or release, default debug), REPORTS (default: reports).
# The JUnit and JSON reports are written to $REPORTS/contract.{xml,json}, also when a case fails.
set -euo pipefail
cd "$(dirname "$0")"
configuration=${CONFIGURATION:-debug}
reports=${REPORTS:-reports}

swift build -c "$configuration"
bin=$(swift build -c "$configuration" --show-bin-path)
library=$bin/lib__TYPE__Provider.so
test -f "$library" || { echo "ci.sh: $library was not built" >&2; exit 1; }

state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$reports"
MOLECULE_CONTRACT_STATE_DIR=$state "${MOLECULE_HOST:-molecule-host}" contract --provider "$library" \
  --config contract.yaml --profile core --junit "$reports/contract.xml" --report "$reports/contract.json"
