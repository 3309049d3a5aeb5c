#!/usr/bin/env bash
# The whole suite on a busy machine: RUNS clean clones of this repository's HEAD, each running ./test.sh while
# stress-ng holds every core, one after another; stops at the first failure. Usage: bench/stressed-suite.sh [runs=3]
# Prints one line per run and exits non-zero when a run fails. Not part of ./test.sh (each run takes 25-40 minutes).
set -uo pipefail
runs=${1:-3}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse --short HEAD)
if ! command -v stress-ng >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "stress-ng is missing: apt-get install stress-ng (as root)" >&2; exit 2; }
  apt-get install -y -qq stress-ng >/dev/null || { echo "could not install stress-ng" >&2; exit 2; }
fi
work=$(mktemp -d /tmp/piops-stressed.XXXX)
for i in $(seq 1 "$runs"); do
  dir="$work/run$i"
  git clone -q "$repo" "$dir"
  git -C "$dir" checkout -q "$head"
  stress-ng --cpu "$(nproc)" --quiet & hog=$!
  start=$(date +%s)
  (cd "$dir" && ./test.sh > "$dir.log" 2>&1); rc=$?
  kill "$hog"; wait "$hog" 2>/dev/null
  took=$(( $(date +%s) - start ))
  echo "run $i of $runs on $head: rc=$rc, $((took / 60)) min $((took % 60)) s, $(tail -1 "$dir.log"), log $dir.log"
  [ "$rc" -eq 0 ] || exit 1
done
