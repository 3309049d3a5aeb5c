#!/usr/bin/env bash
# The one test command (README): installs what the tests need, restores, builds, runs every test against a real
# redis-server, the embedded Garnet, real worker processes and headless Chromium, and prints
# "tests: N passed, N failed" last. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

# Everything missing is installed in one apt-get run (one index update): what the tests cannot run without, then the
# best-effort extras. apt waits up to 5 minutes for the dpkg lock, which a fresh machine's own upgrades may hold.
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The Sentinel failover tests start redis-sentinel (its own Debian package; redis-server does not bring it).
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The forwarded-header tests send requests from a network namespace of their own (ip netns, veth; needs root).
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
extra=()
# The kubectl comparisons (KubectlOracleFacts) run Kubernetes' own client: Debian's kubernetes-client package (without
# kubectl those tests fail and say kubectl is missing).
command -v kubectl >/dev/null 2>&1 || extra+=(kubernetes-client)
# The alert rules' test runs Prometheus's own promtool (Debian's prometheus package; its service is not started here).
command -v promtool >/dev/null 2>&1 || extra+=(prometheus)
# The chart tests render with helm when it is on PATH, else with the offline tools/helm-render, built from Debian's Go.
if ! command -v helm >/dev/null 2>&1; then
  while read -r p; do [ -n "$p" ] && extra+=("$p"); done < <(bash tools/helm-render/build.sh --missing)
fi
if ((${#need[@]} + ${#extra[@]})); then
  if [ "$(id -u)" = 0 ]; then
    apt=(apt-get -o DPkg::Lock::Timeout=300 -y -qq)
    echo "installing: ${need[*]} ${extra[*]}"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null 2>&1 || true
    if ((${#need[@]})); then
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${need[@]}" >/dev/null || { echo "apt-get install ${need[*]} failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
    fi
    if ((${#extra[@]})); then
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${extra[@]}" >/dev/null 2>&1 \
        || echo "apt-get install ${extra[*]} failed: the kubectl comparisons, the alert rules' test or the chart tests will fail"
    fi
  elif ((${#need[@]})); then
    echo "missing: ${need[*]}. Install them with: sudo apt-get install ${need[*]}"
    echo "tests: 0 passed, 1 failed"
    exit 1
  else
    echo "missing: ${extra[*]} (the kubectl comparisons, the alert rules' test or the chart tests will fail). Install them with: sudo apt-get install ${extra[*]}"
  fi
fi

# The chart tests render with helm when it is on PATH, else with the offline tools/helm-render, which its build.sh
# builds once from Debian's Go packages (installing them when run as root).
if ! command -v helm >/dev/null 2>&1; then
  bash tools/helm-render/build.sh >/dev/null || { echo "building tools/helm-render failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
fi

installed_at=$SECONDS
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if ! dotnet restore PiOps.sln --nologo -v q; then echo "restore failed"; echo "tests: 0 passed, 1 failed"; exit 1; fi
if ! dotnet build PiOps.sln -c Release --no-restore --nologo -v q; then echo "build failed"; echo "tests: 0 passed, 1 failed"; exit 1; fi

built_at=$SECONDS
results=.test-results
rm -rf "$results"; mkdir -p "$results"
dotnet test PiOps.Tests/PiOps.Tests.csproj -c Release --no-build --nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
echo "time: installs and tools ${installed_at}s, restore and build $((built_at - installed_at))s, tests $((SECONDS - built_at))s"

trx=$(ls "$results"/*.trx 2>/dev/null | head -1)
if [ -n "$trx" ]; then
  passed=$(grep -o '<Counters [^>]*' "$trx" | grep -o 'passed="[0-9]*"' | grep -o '[0-9]*')
  failed=$(grep -o '<Counters [^>]*' "$trx" | grep -o 'failed="[0-9]*"' | grep -o '[0-9]*')
  errors=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' error="[0-9]*"' | grep -o '[0-9]*')
  failed=$(( ${failed:-0} + ${errors:-0} ))
else
  passed=0; failed=1
fi
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
# A long log scrolls the failures out of sight: repeat each failed test with its message just above the closing line.
if [ "${failed:-0}" -ne 0 ]; then
  echo "---- failed tests (full output above and in $results/) ----"
  grep -E -A 14 '^\s+Failed PiOps\.Tests\.' "$results/console.log" | grep -v -E '^\s+at (System|Microsoft|Xunit)\.' | head -150
fi
echo "tests: ${passed:-0} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
