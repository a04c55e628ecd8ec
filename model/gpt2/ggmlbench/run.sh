#!/bin/bash
# Deskbot's GPT-2 against ggml's examples/gpt-2, as ../shared/bench/ggml-gpt2/run.sh (which this calls for the
# building and the files) but measured by this folder's bench.py, which adds Deskbot's q4 against ggml's q4_0.
#   usage: model/gpt2/ggmlbench/run.sh [ROUNDS] [ONLY-REGEX]   (SHARED: the folder with run.sh, ggml-src.tar.xz ...;
#          default ../shared/bench/ggml-gpt2 beside the project; W: the work folder, default a fresh temporary one)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=$(cd "$HERE/../../.." && pwd)
SHARED=${SHARED:-$PROJECT/../shared/bench/ggml-gpt2}
[ -f "$SHARED/run.sh" ] || { echo "no $SHARED/run.sh (set SHARED)"; exit 2; }
W=${W:-$(mktemp -d)}
# Build everything and prepare the files with the shared script, measuring nothing (no configuration matches).
PROJECT=$PROJECT W=$W bash "$SHARED/run.sh" 0 '^$' >/dev/null
ROUNDS=${1:-5}; ONLY=${2:-}; OUT=$W/results-$(date +%Y%m%d-%H%M%S)
DESKBOT=$W/deskbot DESKBOT_DATA=$W/data DESKBOT_MODEL=$W/m124 GGML_BIN=$W/ggml/build/bin/gpt-2-backend GGML_MODELS=$W/gm \
  PROMPTS=$W MEMBW=$W/membw /usr/bin/python3 "$HERE/bench.py" --rounds "$ROUNDS" ${ONLY:+--only "$ONLY"} --out "$OUT" >/dev/null
echo "work folder: $W; runs and log: $OUT"
/usr/bin/python3 "$HERE/bench.py" --summarize --out "$OUT"
