#!/usr/bin/env bash
# Regenerates the report section of docs/coverage.md (everything after the
# "Generated with" line) from `winekernel coverage`, with every committed
# recording replayed (--verify) and counted (--fixture).
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--markdown --verify)
for f in $(ls fixtures/recordings/*.wkrec.gz | sort); do args+=(--fixture "$f"); done
marker='Generated with `winekernel coverage --markdown --verify --fixture ...` over every recording in fixtures/recordings (`scripts/update-coverage-doc.sh`):'
report=$(node bin/winekernel.js coverage "${args[@]}")
head=$(sed -n '1,/^## The report$/p' docs/coverage.md)
printf '%s\n\n%s\n\n%s\n' "$head" "$marker" "$report" > docs/coverage.md
