#!/usr/bin/env bash
# Runs the workload contract (PiOps.Tests/Kubernetes/ClusterContractFacts.cs) against a real cluster: the same facts
# ./test.sh runs against the API double, with the dashboard reaching the cluster only through your kubeconfig. It
# creates, edits, re-runs and deletes Jobs and CronJobs named contract-*, scales the workers Deployment and turns its
# autoscaler on and off; at the end the contract's objects are deleted and the replicas and autoscalers it found are
# put back. Use a throwaway namespace with the chart installed (docs/deploy.md, section 9).
#
# Usage: bench/cluster-contract.sh NAMESPACE
#   KUBECONFIG          the cluster, as kubectl reads it (one file; default ~/.kube/config), its current context
#   PIOPS_RELEASE       the Helm release (default piops): workers Deployment RELEASE-worker
#   PIOPS_DEPLOYMENT    the workers Deployment, when it is not RELEASE-worker
# Needs the .NET SDK, kubectl and redis-server on PATH (the dashboard under test keeps its queue in a local Redis).
# Prints each fact's result and a closing line "contract: N passed, M failed"; exits 1 if any fails.
set -uo pipefail

ns=${1:?usage: bench/cluster-contract.sh NAMESPACE (see the comments at the top)}
cd "$(dirname "$0")/.."
kubeconfig=${KUBECONFIG:-$HOME/.kube/config}
if [ ! -f "$kubeconfig" ]; then
  echo "contract: no kubeconfig at $kubeconfig (set KUBECONFIG to one file)" >&2
  exit 2
fi
for tool in kubectl redis-server dotnet; do
  command -v "$tool" >/dev/null || { echo "contract: $tool is not on PATH" >&2; exit 2; }
done
if ! kubectl --kubeconfig "$kubeconfig" -n "$ns" get deployment "${PIOPS_DEPLOYMENT:-${PIOPS_RELEASE:-piops}-worker}" -o name >/dev/null; then
  echo "contract: no workers Deployment ${PIOPS_DEPLOYMENT:-${PIOPS_RELEASE:-piops}-worker} in $ns (install the chart there, or set PIOPS_RELEASE or PIOPS_DEPLOYMENT)" >&2
  exit 2
fi

export PIOPS_CONTRACT_KUBECONFIG=$kubeconfig
export PIOPS_CONTRACT_NAMESPACE=$ns
export PIOPS_CONTRACT_DEPLOYMENT=${PIOPS_DEPLOYMENT:-${PIOPS_RELEASE:-piops}-worker}
build=()
[ "${PIOPS_CONTRACT_NO_BUILD:-}" = 1 ] && build=(--no-build)
log=$(mktemp)
dotnet test PiOps.Tests/PiOps.Tests.csproj -c Release --nologo "${build[@]}" \
  --filter "FullyQualifiedName~PiOps.Tests.Kubernetes.ClusterContractFacts" \
  --logger "console;verbosity=normal" 2>&1 | tee "$log"
passed=$(grep -cE '^\s+Passed PiOps' "$log")
failed=$(grep -cE '^\s+Failed PiOps' "$log")
rm -f "$log"
echo "contract: $passed passed, $failed failed ($ns)"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
