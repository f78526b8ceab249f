#!/usr/bin/env bash
# test.sh [go test flags and packages...]
#
# Runs go test with ONE test cluster shared by every package: starts etcd + kube-apiserver
# with start-kube-testenv.sh, exports its kubeconfig as $ADDONSYNC_TESTENV_KUBECONFIG (which
# internal/testenv.Main uses instead of starting a cluster per package), runs go test with
# the arguments given, and stops the cluster however go test ends. Each test works in its
# own namespace and inventory namespace, so packages running at once do not meet.
#
# Needs $ADDONSYNC_TESTENV_BIN (the Makefile sets it; make testenv builds the binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ADDONSYNC_TESTENV_BIN:?set ADDONSYNC_TESTENV_BIN (make test does) to the test cluster binaries}
dir=$(mktemp -d "${TMPDIR:-/tmp}/addonsync-testenv.XXXXXX")
stop() { [[ -f "$dir/stop.sh" ]] && bash "$dir/stop.sh" >/dev/null 2>&1; rm -rf "$dir"; }
trap stop EXIT
if ! kubeconfig=$(KUBE_TESTENV_DIR=$dir bash hack/start-kube-testenv.sh "$bin" 2>"$dir.start.log"); then
  cat "$dir.start.log" >&2; rm -f "$dir.start.log"
  echo "test.sh: the test cluster did not start (see above)" >&2
  exit 1
fi
rm -f "$dir.start.log"
export ADDONSYNC_TESTENV_KUBECONFIG=$kubeconfig
echo "test.sh: one test cluster for this run: $kubeconfig" >&2
go test "$@"
