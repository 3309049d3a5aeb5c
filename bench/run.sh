#!/usr/bin/env bash
# Runs a benchmark in Release: ./bench/run.sh pi [n] [naive-n]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/PiOps.Bench/PiOps.Bench.csproj -c Release --nologo -v q >/dev/null
# dotnet-dump (page-cost), from the repository's tool manifest.
dotnet tool restore >/dev/null
exec dotnet bench/PiOps.Bench/bin/Release/net10.0/PiOps.Bench.dll "$@"
