#!/usr/bin/env bash
# demo.sh: addonsync end to end on this machine, offline. `make demo` builds bin/addonsync and
# the test cluster binaries (hack/build-kube-testenv.sh), then runs this script, which
#   1. checks the bundled example config (addons/, clusters/): validate, clusters;
#   2. starts a local real kube-apiserver + etcd (hack/start-kube-testenv.sh) and runs
#      validate, render, diff and sync on examples/quickstart, an offline config repo whose
#      charts live in the repo, then edits a temporary copy of it: a changed value, a removed
#      add-on (prune), the ApplySet inventory as kubectl sees it. Before the first sync, the
#      add-on dns is installed with `helm install`, and addonsync takes that release over.
# The API server is stopped and every temporary file removed on exit. See docs/demo.md.
#
# Env: ADDONSYNC_TESTENV_BIN  directory of kube-apiserver, etcd and kubectl
#                             (default ~/.cache/kube-testenv/v1.35.4, as in the Makefile)
#      HELM_BIN               the helm CLI (default: hack/build-helm.sh builds it once, cached)
#      NO_COLOR               set to print no colour
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
START=$(date +%s)

KUBE_BIN=${ADDONSYNC_TESTENV_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-testenv/v1.35.4}
[[ -x bin/addonsync ]] || { echo "demo: bin/addonsync is missing: run 'make demo' (or 'make build' first)" >&2; exit 1; }
if [[ ! -x "$KUBE_BIN/kube-apiserver" || ! -x "$KUBE_BIN/kubectl" ]]; then
  echo "demo: building kube-apiserver, etcd and kubectl into $KUBE_BIN (first run only, a few minutes)" >&2
  bash hack/build-kube-testenv.sh "$KUBE_BIN" >/dev/null
fi
if [[ -z "${HELM_BIN:-}" ]]; then
  echo "demo: building the helm CLI if it is not cached yet (first run only, a few minutes)" >&2
  HELM_BIN=$(bash hack/build-helm.sh)
fi
# Commands are shown as a user types them: addonsync, kubectl and helm from PATH.
export PATH="$ROOT/bin:$KUBE_BIN:$(dirname "$HELM_BIN"):$PATH"

# ---- presentation ----
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  BOLD=$'\033[1m' DIM=$'\033[2m' CYAN=$'\033[36m' RED=$'\033[31m' RESET=$'\033[0m'
else
  BOLD='' DIM='' CYAN='' RED='' RESET=''
fi
heading() { printf '\n%s%s== %s ==%s\n' "$BOLD" "$CYAN" "$*" "$RESET"; }
say() { printf '%s%s%s\n' "$DIM" "$*" "$RESET"; }
# run EXPECTED 'COMMAND': show the command, run it (eval: pipes and redirections work) and
# stop the demo when its exit status is not EXPECTED ("any" takes every status).
run() {
  local want=$1 cmd=$2 rc
  printf '\n%s$ %s%s\n' "$BOLD" "$cmd" "$RESET"
  set +e; eval "$cmd"; rc=$?; set -e
  (( rc == 0 )) || printf '%s(exit status %d)%s\n' "$DIM" "$rc" "$RESET"
  if [[ "$want" != any && "$rc" != "$want" ]]; then
    printf '%sdemo: expected exit status %s from: %s%s\n' "$RED" "$want" "$cmd" "$RESET" >&2
    exit 1
  fi
}

# ---- cleanup: everything this script starts or creates ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/addonsync-demo.XXXXXX")
KUBECONFIG_FILE="" JOBCTL_PID=""
cleanup() {
  if [[ -n "$JOBCTL_PID" ]]; then kill "$JOBCTL_PID" 2>/dev/null || true; fi
  if [[ -n "$KUBECONFIG_FILE" ]]; then bash "$(dirname "$KUBECONFIG_FILE")/stop.sh" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# helm keeps its cache and config in the temporary directory, not in yours.
export HELM_CACHE_HOME=$WORK/helm/cache HELM_CONFIG_HOME=$WORK/helm/config HELM_DATA_HOME=$WORK/helm/data

# ======================================================================================
heading "Part 1: the bundled example config (addons/, clusters/)"
say "Six upstream add-ons (CoreDNS, MetalLB + its pools, ingress-nginx, rook-ceph, cert-manager,"
say "kube-prometheus-stack) on clusters prod, dev and wsp. See docs/example-config.md."
run 0 "addonsync validate"
run 0 "addonsync clusters -o wide"
say ""
say "Rendering it needs the upstream chart repositories (or mirrors of them, set under"
say "repositories: in addonsync.yaml). Offline, render fails before anything could be applied,"
say "and names every add-on it could not fetch (exit 3: network failure). upgrade check asks"
say "the same repositories for newer versions."
run 3 "addonsync render dev 2>&1 >/dev/null | cut -c1-110"

# ======================================================================================
heading "Part 2: examples/quickstart against a local kube-apiserver"
say "An offline config repo: charts kept in the repo (charts/dns, charts/widgets-operator,"
say "charts/web) and a chart-less kustomize add-on (team-quotas), on clusters dev (1.34) and"
say "prod (1.35). dev has no kubeconfig in cluster.yaml, so addonsync uses \$KUBECONFIG."
say ""
say "Starting a throwaway etcd + kube-apiserver v1.35 on 127.0.0.1 ..."
KUBECONFIG_FILE=$(bash hack/start-kube-testenv.sh "$KUBE_BIN" 2>"$WORK/start.log") ||
  { cat "$WORK/start.log" >&2; exit 1; }
export KUBECONFIG=$KUBECONFIG_FILE
say "kube-apiserver $(grep -o 'ready in [0-9]* ms' "$WORK/start.log")"
say ""
say "This API server runs no controllers, scheduler or kubelet: no Pod ever runs. So"
say " - Deployments never become Available: sync runs with --wait=false (no health wait);"
say " - the widgets-operator's pre-install/pre-upgrade hook Job would never finish: this script"
say "   plays the Job controller, marking each new Job Complete through its status subresource"
say "   (kubectl patch --subresource=status), and says so when it does."

# The stand-in Job controller: marks every Job without a success count Complete.
job_status() {
  local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local cond='"status":"True","reason":"CompletionsReached","message":"Reached expected number of succeeded pods","lastTransitionTime":"'$now'","lastProbeTime":"'$now'"'
  printf '{"status":{"startTime":"%s","completionTime":"%s","succeeded":1,"conditions":[{"type":"SuccessCriteriaMet",%s},{"type":"Complete",%s}]}}' \
    "$now" "$now" "$cond" "$cond"
}
job_controller() {
  local ns name ok
  while sleep 0.3; do
    while read -r ns name ok; do
      [[ -n "$name" && "$ok" == "<none>" ]] || continue
      if kubectl patch job -n "$ns" "$name" --subresource=status --type=merge -p "$(job_status)" >/dev/null 2>&1; then
        printf '%s  [demo job controller] Job %s/%s: marked Complete%s\n' "$DIM" "$ns" "$name" "$RESET" >&2
      fi
    done < <(kubectl get jobs -A --no-headers -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,OK:.status.succeeded 2>/dev/null)
  done
}
job_controller &
JOBCTL_PID=$!

cd "$ROOT/examples/quickstart"
printf '\n%s$ cd examples/quickstart%s\n' "$BOLD" "$RESET"

heading "Validate and list"
say "Every file decodes strictly; an unknown field would be an error with its file and line."
run 0 "addonsync validate"
run 0 "addonsync clusters"

heading "Render: the exact objects, per add-on, in dependsOn order"
run 0 "addonsync render dev > $WORK/dev.yaml && grep -E '^# (Source|Hook)' $WORK/dev.yaml"
say ""
say "Secret values are masked unless --show-secrets is given:"
run 0 "addonsync render dev --addon web | grep -B2 -A3 '^stringData'"
say ""
say "dev (1.34) and prod (1.35) from the same chart: per-cluster values (replicas, cache) and"
say "the chart's .Capabilities.KubeVersion switch (trafficDistribution only from 1.35 on):"
run 1 "diff <(addonsync render dev --addon dns) <(addonsync render prod --addon dns)"

heading "Today dns runs as a Helm release"
say "Before addonsync, dns was installed by hand with helm, with dev's values:"
run 0 "helm install dns charts/dns -n kube-system -f addons/dns/values.yaml -f clusters/dev/values/dns.yaml"
run 0 "helm list -A"
DNS_UID=$(kubectl get deployment -n kube-system dns -o jsonpath='{.metadata.uid}')

heading "Diff: dns is adopted from its Helm release, everything else is created"
say "A server-side dry-run apply per object; the full output has each object's YAML, shown"
say "here without it (exit status 1: changes, like kubectl diff)."
run 1 "addonsync diff dev | grep -v '^      '"
say ""
say "The adoption plan of dns in full: helm rendered the chart for the live server (1.35),"
say "addonsync renders it for dev's Kubernetes 1.34, so the Service loses trafficDistribution;"
say "every other object is adopted as it is. Nothing is deleted or recreated."
run 1 "addonsync diff dev --addon dns"

heading "Sync dev"
say "Per add-on in dependsOn order: Namespace and CRDs first (waiting until Established), then"
say "RBAC, then the rest; widgets-operator's pre-install hook runs before its objects, and web"
say "(a Widget custom resource) only after widgets-operator. Progress on stderr, summary on stdout."
run 0 "addonsync sync dev --wait=false --timeout 2m"
run 0 "kubectl get jobs,widgets -A"
say ""
say "dns was taken over in place: Helm's field ownership moved to addonsync, the Deployment"
say "kept its UID, and once the whole cluster synced the Helm release was retired, so"
say "helm list shows nothing and a colleague's helm upgrade finds no release to fight over."
run 0 "helm list -A"
run 0 "kubectl get deployment -n kube-system dns -o jsonpath='{.metadata.uid}{\"\\n\"}' | grep -x $DNS_UID"

heading "Diff again: nothing to do"
run 0 "addonsync diff dev"

heading "Sync again: nothing to do, no hook runs, nothing is written"
say "The release record in each add-on's inventory ConfigMap says the install completed and"
say "what was rendered; nothing changed, so no pre-upgrade hook runs and no object is sent."
say "(The demo job controller above stays silent: no Job is created.)"
run 0 "addonsync sync dev --wait=false --timeout 2m"
run 0 "kubectl get configmap -n addonsync-system addonsync-widgets-operator -o jsonpath='{.data.release}{\"\\n\"}'"

# ======================================================================================
heading "Change a value (in a temporary copy of the quickstart repo)"
cp -R "$ROOT/examples/quickstart" "$WORK/quickstart"
cd "$WORK/quickstart"
printf '\n%s$ cp -R examples/quickstart %s/quickstart && cd %s/quickstart%s\n' "$BOLD" "$WORK" "$WORK" "$RESET"
run 0 "sed -i 's/^replicaCount: 1\$/replicaCount: 2/' clusters/dev/values/web.yaml && cat clusters/dev/values/web.yaml"
say ""
say "The diff is that one field (server defaults are not shown as changes):"
run 1 "addonsync diff dev --addon web"
say ""
say "Only the Deployment is written; unchanged objects are not. widgets-operator's render did"
say "not change, so its pre-upgrade hook does not run (hooks follow the release, as with Helm:"
say "upgrade hooks run when what an add-on renders changes):"
run 0 "addonsync sync dev --wait=false --timeout 2m"

heading "Remove an add-on from dev: its objects are pruned"
run 0 "sed -i '/- name: team-quotas/d' clusters/dev/cluster.yaml && grep -A6 '^  addons:' clusters/dev/cluster.yaml"
run 1 "addonsync diff dev | grep -v '^      '"
say ""
say "Only what the add-on's inventory lists is deleted; its Namespace stays (Namespaces, CRDs"
say "and volumes are never pruned unless the add-on opts in)."
run 0 "addonsync sync dev --wait=false --timeout 2m"
run 0 "kubectl get namespace team-a && kubectl get resourcequota,limitrange,networkpolicy -n team-a"

heading "The inventory is an ApplySet (KEP-3659): kubectl can read it"
say "One parent ConfigMap per add-on in addonsync-system; every member carries its ID in the"
say "label applyset.kubernetes.io/part-of. team-quotas' parent went with its last member."
run 0 "kubectl get configmaps -n addonsync-system -l applyset.kubernetes.io/id -L applyset.kubernetes.io/id"
ID=$(kubectl get configmap -n addonsync-system addonsync-web -o jsonpath='{.metadata.labels.applyset\.kubernetes\.io/id}')
KINDS=$(kubectl get configmap -n addonsync-system addonsync-web -o jsonpath='{.metadata.annotations.applyset\.kubernetes\.io/contains-group-kinds}')
run 0 "kubectl get $KINDS -A -l applyset.kubernetes.io/part-of=$ID"

heading "A typo is caught before anything runs"
run 0 "sed -i 's/kubernetesVersion:/kubernetesVerison:/' clusters/dev/cluster.yaml"
run 2 "addonsync validate"

heading "Done in $(( $(date +%s) - START ))s"
say "The API server is being stopped and $WORK removed."
say "Next: docs/demo.md (what each step showed), docs/example-config.md (the full example)."
