#!/usr/bin/env bash
# Regenerates docs/parity/*.json (stable contract results of every in-tree provider) and docs/parity.md from them.
# A test fails while the committed files differ from what a fresh run produces.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_PARITY=1 swift test --filter ParityDocumentTests
git status --short docs
