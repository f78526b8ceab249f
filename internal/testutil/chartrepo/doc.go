// Package chartrepo builds Helm charts in tests and serves them from a real HTTP chart
// repository (index.yaml + .tgz) or a real OCI registry (go-containerregistry's pkg/registry),
// both on loopback.
//
// # Example
//
//	repo := chartrepo.NewHTTP(t)
//	digest := repo.Add(t, chartrepo.Chart{Name: "demo", Version: "1.0.0",
//		Files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n..."}})
//	// addon.yaml: chart: {repository: repo.URL(), name: demo, version: 1.0.0}
package chartrepo
