// Package quickstart holds no code: it is the offline example config repo that `make demo`
// (hack/demo.sh) runs addonsync on. Its test keeps the config valid: it loads the repo with
// pkg/config and renders both clusters with pkg/render, without a network or a cluster.
package quickstart
