#!/usr/bin/env bash
# demo.sh: start a local real kube-apiserver + etcd (built by hack/build-kube-testenv.sh) and run
# addonsync on the bundled example config (addons/, clusters/). Stops the API server on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ADDONSYNC_TESTENV_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-testenv/v1.35.4}
bash hack/build-kube-testenv.sh "$BIN" >/dev/null
KUBECONFIG=$(bash hack/start-kube-testenv.sh "$BIN")
export KUBECONFIG
trap 'bash "$(dirname "$KUBECONFIG")/stop.sh"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run bin/addonsync version
run bin/addonsync validate
run bin/addonsync clusters
