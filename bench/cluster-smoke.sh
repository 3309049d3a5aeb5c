#!/usr/bin/env bash
# Checks an installed PiOps on a real cluster, end to end, with nothing but kubectl and curl: the workers Deployment,
# the dashboard's readiness, the API's token, tasks enqueued through the API and computed by the workers, a refused
# request, and a scale of the workers and back. Each check prints "ok" or "FAIL" with the reason; exits 1 if any fails.
#
# Usage: bench/cluster-smoke.sh NAMESPACE
#   KUBECONFIG          the cluster, as kubectl reads it (kind, minikube, a staging cluster)
#   PIOPS_RELEASE       the Helm release (default piops): Deployment RELEASE-worker, Service RELEASE-dashboard
#   PIOPS_DEPLOYMENT    the workers Deployment, when it is not RELEASE-worker
#   PIOPS_URL           the dashboard; without it, kubectl port-forward to the release's dashboard Service
#   PIOPS_TOKEN         a bearer token made on the dashboard's API tokens page (Operator), for the API's calls
#   PIOPS_TIMEOUT       seconds to wait for each check (default 120)
# Leaves the queue with the tasks it made done and the workers at the replicas it found. Use a throwaway namespace.
set -uo pipefail

ns=${1:?usage: bench/cluster-smoke.sh NAMESPACE (see the comments at the top)}
release=${PIOPS_RELEASE:-piops}
deployment=${PIOPS_DEPLOYMENT:-$release-worker}
timeout=${PIOPS_TIMEOUT:-120}
failed=0
forward=""

ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failed=1; }
k() { kubectl -n "$ns" "$@"; }
api() { # METHOD PATH [BODY]: prints the body, then the status on its own last line
  local auth=()
  [ -n "${PIOPS_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $PIOPS_TOKEN")
  curl -sS -m 30 -X "$1" "${auth[@]}" -H 'Content-Type: application/json' ${3:+--data "$3"} -w '\n%{http_code}' "$url$2"
}
# shellcheck disable=SC2317 # called by the trap
cleanup() { [ -n "$forward" ] && kill "$forward" 2>/dev/null; }
trap cleanup EXIT

# 1. The cluster, and the namespace as far as this user may read it (no cluster-wide rights needed).
if out=$(k get deployments -o name 2>&1); then
  ok "kubectl reaches the cluster and lists Deployments in $ns"
else
  fail "kubectl cannot list Deployments in $ns: $(printf '%s' "$out" | tail -1)"
  exit 1
fi

# 2. The workers Deployment is rolled out.
replicas=$(k get deployment "$deployment" -o jsonpath='{.spec.replicas}' 2>/dev/null)
if [ -z "$replicas" ]; then
  fail "no Deployment $deployment in $ns (set PIOPS_RELEASE or PIOPS_DEPLOYMENT)"
  exit 1
fi
if out=$(k rollout status "deployment/$deployment" --timeout="${timeout}s" 2>&1); then
  ok "deployment/$deployment rolled out with $replicas replica(s)"
else
  fail "deployment/$deployment is not rolled out: $out"
fi

# 3. The dashboard: given, or through a port-forward to the release's Service.
if [ -n "${PIOPS_URL:-}" ]; then
  url=${PIOPS_URL%/}
else
  port=$(( 20000 + RANDOM % 20000 ))
  k port-forward "svc/$release-dashboard" "$port:80" >/dev/null 2>&1 & forward=$!
  url="http://127.0.0.1:$port"
fi
ready=""
for _ in $(seq 1 "$timeout"); do
  ready=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url/health/ready") && [ "$ready" = 200 ] && break
  sleep 1
done
if [ "$ready" = 200 ]; then ok "the dashboard at $url is ready (Redis answers)"; else fail "the dashboard at $url is not ready (HTTP ${ready:-none})"; fi

# 4. The API takes the token.
out=$(api GET /api/queue); code=${out##*$'\n'}
if [ "$code" = 200 ]; then ok "GET /api/queue: ${out%$'\n'*}"; else fail "GET /api/queue answered $code: ${out%$'\n'*} (is PIOPS_TOKEN set?)"; fi

# 5. Three tasks through the API, each computed by a worker.
out=$(api POST /api/tasks '{"iterations": 1000000, "count": 3}'); code=${out##*$'\n'}; body=${out%$'\n'*}
ids=$(printf '%s' "$body" | grep -o '"ids":\[[^]]*\]' | grep -o '"[^",]*"' | tr -d '"' | grep -v '^ids$')
if [ "$code" = 201 ] && [ "$(printf '%s\n' "$ids" | grep -c .)" = 3 ]; then
  ok "POST /api/tasks made $(printf '%s' "$ids" | tr '\n' ' ')"
  for id in $ids; do
    status=""
    for _ in $(seq 1 "$timeout"); do
      status=$(api GET "/api/tasks/$id")
      printf '%s' "$status" | grep -qi '"done"' && break
      sleep 1
    done
    if printf '%s' "$status" | grep -qi '"done"' && printf '%s' "$status" | grep -q '3\.14159'; then
      ok "task $id done: $(printf '%s' "$status" | grep -o '"pi":"[^"]*"')"
    else
      fail "task $id not done within ${timeout}s: ${status%$'\n'*}"
    fi
  done
else
  fail "POST /api/tasks answered $code: $body"
fi

# 6. A request the API must refuse, with its reason.
out=$(api POST /api/tasks '{"iterations": "-5"}'); code=${out##*$'\n'}
if [ "$code" = 400 ] && printf '%s' "$out" | grep -q 'must not be negative'; then
  ok "a negative iteration count is refused: 400 with the reason"
else
  fail "a negative iteration count answered $code: ${out%$'\n'*}"
fi

# 7. Scale the workers up by one and back (kubectl scale, as the Workers page does).
if k scale "deployment/$deployment" --replicas=$(( replicas + 1 )) >/dev/null 2>&1 \
   && k rollout status "deployment/$deployment" --timeout="${timeout}s" >/dev/null 2>&1 \
   && [ "$(k get deployment "$deployment" -o jsonpath='{.status.readyReplicas}')" = $(( replicas + 1 )) ]; then
  ok "deployment/$deployment scaled to $(( replicas + 1 )) and ready"
else
  fail "deployment/$deployment did not reach $(( replicas + 1 )) ready replica(s)"
fi
k scale "deployment/$deployment" --replicas="$replicas" >/dev/null 2>&1 || fail "could not scale deployment/$deployment back to $replicas"

if [ "$failed" = 0 ]; then echo "smoke: every check passed in namespace $ns"; else echo "smoke: some checks failed in namespace $ns"; fi
exit "$failed"
