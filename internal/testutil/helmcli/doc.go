// Package helmcli runs the real helm CLI in tests, at the version go.mod pins, as
// hack/build-helm.sh builds it (and caches it under ~/.cache/addonsync/tools).
//
//	h := helmcli.New(t, env.Kubeconfig) // fails under CI=true without a helm binary, else skips
//	h.Must(t, "install", "web", chartPath, "-n", ns)
//	h.WithDriver("configmap").Must(t, "list", "-A")
//
// Each CLI keeps helm's cache, config and data directories in a temporary directory, so
// tests never read or write the user's helm settings.
package helmcli
