#!/usr/bin/env bash
# Runs every test: installs what is missing (scripts/setup.sh), then the whole
# vitest suite, which includes the Wine end-to-end tests and the kernel tests
# inside QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install tsc -p tsconfig.json
npx --no-install vitest run "$@"
