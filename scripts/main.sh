#!/usr/bin/env bash
# Set up (if needed) and run the main job on the embedded default: every asset of configs/ once.
# Extra arguments go to `dataspace run` (e.g. --dev to open the UI afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/dataspace run "$@"
