#!/usr/bin/env bash
# build-helm.sh builds the real helm CLI, at the version addonsync's go.mod pins, from the Go
# module proxy into a cache directory, and prints the binary's path. It is idempotent: a
# binary already built for that version is reused.
#
#   HELM_BIN=$(hack/build-helm.sh)
#
# Environment: HELM_VERSION (default: the helm.sh/helm/v3 version in go.mod),
# ADDONSYNC_TOOLS_DIR (default: ${XDG_CACHE_HOME:-~/.cache}/addonsync/tools).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${HELM_VERSION:-$(cd "$root" && go list -m -f '{{.Version}}' helm.sh/helm/v3)}
tools=${ADDONSYNC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/addonsync/tools}
bindir="$tools/helm-$version"
bin="$bindir/helm"

if [[ -x "$bin" ]] && "$bin" version --template '{{.Version}}' 2>/dev/null | grep -qx "$version"; then
	echo "$bin"
	exit 0
fi

mkdir -p "$bindir"
ldflags="-X helm.sh/helm/v3/internal/version.version=$version"
# go install keeps the module's own go.mod (and so its exact dependency versions).
if ! GOBIN="$bindir" GOFLAGS=-mod=mod go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version" >&2; then
	# Fallback when go install refuses (e.g. replace directives): a throwaway module.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(
		cd "$tmp"
		go mod init helmbuild >&2
		go get "helm.sh/helm/v3@$version" >&2
		GOBIN="$bindir" go install -ldflags "$ldflags" helm.sh/helm/v3/cmd/helm >&2
	)
fi
echo "$bin"
