package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLoadInvalid loads one broken config repo per case and checks every reported problem,
// with its file, line and field.
func TestLoadInvalid(t *testing.T) {
	cases := []struct {
		name string
		want []string
	}{
		{"bad-constraint", []string{
			"addons/web/addon.yaml:12: spec.upgrade.constraint: invalid semver range \">=1.x.y\": improper constraint: \">=1.x.y\" (a semver range like \">=1.21.0 <2.0.0\")",
		}},
		{"bad-duration", []string{
			"addons/web/addon.yaml:12: spec.sync.timeout: invalid duration \"5 minutes\" (a Go duration like \"5m\" or \"90s\")",
		}},
		{"bad-minor", []string{
			"clusters/prod/cluster.yaml:6: spec.kubernetesVersion: kubernetes version \"v1.34\": must be a minor like \"1.34\" (the minor only, quoted, e.g. \"1.34\")",
		}},
		{"bad-repo-settings", []string{
			"addonsync.yaml:7: spec.prune.maxPercent: must be between 0 and 100, got 150",
			"addonsync.yaml:9: spec.helmReleases.retire: \"archive\" is not a retire mode (use \"delete\" or \"keep\")",
		}},
		{"bad-repository-url", []string{
			"addons/web/addon.yaml:8: spec.chart.repository: \"charts.example.com\" must be an https://, http:// or oci:// URL (e.g. https://charts.example.com or oci://registry.example.com/charts)",
		}},
		{"bad-schedule", []string{
			"addons/web/addon.yaml:12: spec.upgrade.schedule: invalid cron schedule \"every monday\": expected exactly 5 fields, found 2: [every monday] (five fields: minute hour day-of-month month day-of-week, e.g. \"0 6 * * 1\")",
		}},
		{"chart-both", []string{
			"addons/web/addon.yaml:7: spec.chart: chart has both repository and path (remove one of them)",
		}},
		{"chart-neither", []string{
			"addons/web/addon.yaml:7: spec.chart: chart has neither repository nor path (set repository, name and version, or path)",
		}},
		{"cluster-values-not-mapping", []string{
			"clusters/prod/values/web.yaml:2: values must be a YAML mapping, got the string \"replicas 3\"",
		}},
		{"cluster-dependson-not-run", []string{
			"clusters/prod/cluster.yaml:11: spec.addons[0].dependsOn[0]: add-on \"web\" depends on \"db\", which this cluster does not run (add {name: db} to spec.addons or remove it)",
		}},
		{"cluster-dependson-cycle", []string{
			"clusters/prod/cluster.yaml:9: spec.addons: cluster \"prod\": dependsOn cycle among add-ons [db web] (remove one of the dependencies (addon.yaml or spec.addons[].dependsOn))",
		}},
		{"dependson-cycle", []string{
			"addons/cache/addon.yaml:12: spec.dependsOn[0]: dependency cycle: cache -> web -> db -> cache (remove one of these dependencies)",
		}},
		{"dependson-missing", []string{
			"addons/web/addon.yaml:11: spec.dependsOn[0]: add-on \"db\" does not exist (add addons/db/addon.yaml or remove it)",
		}},
		{"dependson-not-on-cluster", []string{
			"clusters/prod/cluster.yaml:10: spec.addons[0].name: add-on \"web\" depends on \"db\", which this cluster does not run (add {name: db} to spec.addons)",
		}},
		{"duplicate-addon-name", []string{
			"addons/www/addon.yaml:4: metadata.name: \"web\" does not match its directory \"www\" (make them equal)",
			"addons/www/addon.yaml:4: metadata.name: add-on \"web\" is already defined in addons/web/addon.yaml (rename or remove one of them)",
		}},
		{"duplicate-in-cluster", []string{
			"clusters/prod/cluster.yaml:12: spec.addons[2].name: add-on \"web\" is already listed in spec.addons[0] (remove the duplicate)",
		}},
		{"duplicate-key", []string{
			"addons/web/addon.yaml:11: spec.namespace: field is set twice (first on line 6) (remove one of them)",
		}},
		{"empty-file", []string{
			"clusters/prod/cluster.yaml: file is empty (start it with apiVersion: addonsync.io/v1alpha1 and kind: Cluster)",
		}},
		{"kubeconfig-both", []string{
			"clusters/prod/cluster.yaml:7: spec.kubeconfig: kubeconfig has both path and secret (keep one of them)",
		}},
		{"missing-addon", []string{
			"clusters/prod/cluster.yaml:11: spec.addons[1].name: add-on \"foo\" does not exist (add addons/foo/addon.yaml or remove it)",
		}},
		{"missing-addon-file", []string{
			"addons/db: directory has no addon.yaml (add addons/db/addon.yaml or remove the directory)",
		}},
		{"missing-chart-version", []string{
			"addons/web/addon.yaml:7: spec.chart.version: required field is missing (the exact chart version, e.g. \"1.2.3\")",
		}},
		{"missing-kubernetes-version", []string{
			"clusters/prod/cluster.yaml:5: spec.kubernetesVersion: required field is missing (the cluster's Kubernetes minor, e.g. \"1.34\")",
		}},
		{"missing-namespace", []string{
			"addons/web/addon.yaml:5: spec.namespace: required field is missing (the namespace the add-on is installed into)",
		}},
		{"name-mismatch", []string{
			"clusters/prod/cluster.yaml:4: metadata.name: \"production\" does not match its directory \"prod\" (make them equal)",
		}},
		{"path-absolute", []string{
			"addons/web/addon.yaml:8: spec.chart.path: \"/charts/web\" is outside the config repo (use a path relative to the repo root, e.g. charts/web)",
		}},
		{"path-escapes", []string{
			"addons/web/addon.yaml:8: spec.chart.path: \"../charts/web\" is outside the config repo (use a path relative to the repo root, e.g. charts/web)",
		}},
		{"unknown-field", []string{
			"addons/web/addon.yaml:7: spec.chart.version: required field is missing (the exact chart version, e.g. \"1.2.3\")",
			"addons/web/addon.yaml:10: spec.chart.verison: unknown field (did you mean \"version\"?)",
		}},
		{"unquoted-number", []string{
			"clusters/prod/cluster.yaml:6: spec.kubernetesVersion: expected a string, got the number 1.30 (quote it: \"1.30\")",
		}},
		{"values-for-unused-addon", []string{
			"clusters/prod/values/db.yaml: values for add-on \"db\", which cluster \"prod\" does not run (add {name: db} to spec.addons in clusters/prod/cluster.yaml, or delete it)",
		}},
		{"values-not-mapping", []string{
			"addons/web/values.yaml:1: values must be a YAML mapping, got a list",
		}},
		{"wrong-apiversion", []string{
			"addons/web/addon.yaml:1: apiVersion: must be \"addonsync.io/v1alpha1\", got \"addonsync.io/v1\"",
		}},
		{"wrong-kind", []string{
			"addons/web/addon.yaml:2: kind: must be \"Addon\" in addon.yaml, got \"Cluster\"",
		}},
		{"wrong-type", []string{
			"clusters/prod/cluster.yaml:9: spec.addons: expected a list, got the string \"web\"",
		}},
		{"wrong-type-bool", []string{
			"addons/web/addon.yaml:12: spec.upgrade.enabled: expected true or false, got the string \"yes\"",
		}},
		{"yaml-syntax", []string{
			"clusters/prod/cluster.yaml:9: invalid YAML: did not find expected ',' or ']'",
		}},
		{"missing-type-meta", []string{
			"clusters/prod/cluster.yaml:1: apiVersion: required field is missing (add apiVersion: addonsync.io/v1alpha1)",
			"clusters/prod/cluster.yaml:1: kind: required field is missing (add kind: Cluster)",
		}},
		{"missing-name", []string{
			"addons/web/addon.yaml:3: metadata.name: required field is missing (set it to the directory name)",
		}},
		{"missing-addons-list", []string{
			"clusters/prod/cluster.yaml:5: spec.addons: required field is missing (list the add-ons the cluster runs, e.g. addons: [{name: coredns}])",
		}},
		{"kubeconfig-in-cluster-and-path", []string{
			"clusters/prod/cluster.yaml:9: spec.kubeconfig.inCluster: inCluster cannot be combined with path or secret (remove path and secret, or inCluster)",
		}},
		{"chart-path-without-chart-yaml", []string{
			"addons/web/addon.yaml:8: spec.chart.path: \"charts/web\" has no Chart.yaml",
		}},
		{"no-chart-no-kustomize", []string{
			"addons/web/addon.yaml:5: spec: add-on \"web\" has no chart and no addons/web/kustomize directory (add spec.chart or a kustomize/ directory with the manifests)",
		}},
		{"bad-directory-name", []string{
			"addons/Web_App: add-on name \"Web_App\" must be a DNS label of at most 53 characters (use lower-case letters, digits and '-')",
		}},
		{"dependson-self", []string{
			"addons/web/addon.yaml:11: spec.dependsOn[0]: add-on \"web\" depends on itself (remove it)",
		}},
		{"bad-mirror-url", []string{
			"addonsync.yaml:8: spec.repositories[0].mirror: \"mirror.example.com/charts\" must be an https://, http:// or oci:// URL (e.g. https://charts.example.com or oci://registry.example.com/charts)",
		}},
		{"overlay-for-unused-addon", []string{
			"clusters/prod/kustomize/db: overlay for add-on \"db\", which cluster \"prod\" does not run (add {name: db} to spec.addons in clusters/prod/cluster.yaml, or delete it)",
		}},
		{"two-documents", []string{
			"addons/web/addon.yaml:11: file holds more than one YAML document (remove the \"---\" and everything after it)",
		}},
		{"symlink-cluster-values-out", []string{
			"clusters/prod/values/web.yaml: symlink to \"../../../../../valid/addons/metallb/values.yaml\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"symlink-addon-values-absolute", []string{
			"addons/web/values.yaml: symlink to \"/etc/passwd\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"symlink-addon-file-out", []string{
			"addons/web/addon.yaml: symlink to \"../../../bad-minor/addons/web/addon.yaml\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"symlink-chart-dir-out", []string{
			"charts/web: symlink to \"../../../valid/charts/local-issuers\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"symlink-chart-file-out", []string{
			"charts/web/templates/passwd.yaml: symlink to \"/etc/passwd\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"symlink-overlay-dir-out", []string{
			"clusters/prod/kustomize/web: symlink to \"../../../../../valid/addons/namespaces/kustomize\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"symlink-overlay-file-out", []string{
			"addons/web/kustomize/extra.yaml: symlink to \"/etc/hostname\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
			"addons/web/kustomize/kustomization.yaml: resources[1]: \"extra.yaml\": symlink to \"/etc/hostname\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"kustomize-resource-escapes", []string{
			"addons/web/kustomize/kustomization.yaml: resources[1]: \"../../../../secrets\" is outside the config repo (list a path inside the config repo)",
		}},
		{"kustomize-component-symlink-out", []string{
			"clusters/prod/kustomize/web/kustomization.yaml: components[0]: \"../../../../shared/labels\": symlink to \"../../../valid/addons/namespaces/kustomize\" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)",
		}},
		{"url-credentials", []string{
			"addons/web/addon.yaml:8: spec.chart.repository: \"https://REDACTED@charts.example.com\" holds credentials (remove them from the URL and list the repository under spec.repositories in addonsync.yaml with usernameEnv and passwordFile (or passwordEnv))",
		}},
		{"oci-credentials", []string{
			"addons/web/addon.yaml:8: spec.chart.repository: \"oci://REDACTED@registry.example.com/charts\" holds credentials (remove them from the URL and list the repository under spec.repositories in addonsync.yaml with usernameEnv and passwordFile (or passwordEnv))",
		}},
		{"mirror-credentials", []string{
			"addonsync.yaml:8: spec.repositories[0].mirror: \"https://REDACTED@mirror.example.com/charts\" holds credentials (remove them from the URL and list the repository under spec.repositories in addonsync.yaml with usernameEnv and passwordFile (or passwordEnv))",
		}},
		{"bad-url-credentials", []string{
			"addons/web/addon.yaml:8: spec.chart.repository: \"REDACTED@charts.example.com\" must be an https://, http:// or oci:// URL (e.g. https://charts.example.com or oci://registry.example.com/charts)",
		}},
		{"oversized-values", []string{
			"addons/web/values.yaml: file is 2.0 KiB, over the limit of 1.0 KiB per file (shrink it, or raise spec.limits.maxFileSize in addonsync.yaml)",
		}},
		{"oversized-overlay-file", []string{
			"clusters/prod/kustomize/web/big.yaml: file is 3.0 KiB, over the limit of 1.0 KiB per file (shrink it, or raise spec.limits.maxFileSize in addonsync.yaml)",
		}},
		{"bad-size-limit", []string{
			"addonsync.yaml:7: spec.limits.maxFileSize: invalid size \"lots\" (a size like \"8Mi\" or \"64Mi\")",
			"addonsync.yaml:8: spec.limits.maxRenderSize: invalid size \"-1\" (a size like \"8Mi\" or \"64Mi\")",
		}},
		{"minor-too-old", []string{
			"clusters/prod/cluster.yaml:6: spec.kubernetesVersion: kubernetes 1.24 is older than the oldest minor addonsync supports (1.25) (upgrade the cluster to 1.25 or newer, or pin an older addonsync)",
		}},
		{"bad-chart-version", []string{
			"addons/web/addon.yaml:10: spec.chart.version: invalid chart version \"latest\": invalid semantic version (an exact version like \"1.2.3\")",
		}},
	}
	dirs, err := os.ReadDir("testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{"multiple": true}
	for _, tc := range cases {
		covered[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			fsys, err := NewWorktreeFS(filepath.Join("testdata/invalid", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(fsys)
			if cfg != nil {
				t.Errorf("Load returned a config with errors")
			}
			if diff := cmp.Diff(tc.want, errorLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, secret := range []string{"hunter2", "ghp_tokenvalue", "root:"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows %q", secret)
				}
			}
		})
	}
	for _, d := range dirs {
		if !covered[d.Name()] {
			t.Errorf("testdata/invalid/%s has no test case", d.Name())
		}
	}
}

// TestLoadReportsEveryProblem checks that problems in several files are all reported, sorted
// by file and line, not only the first.
func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(os.DirFS("testdata/invalid/multiple"))
	want := []string{
		"addons/db/addon.yaml:5: spec.namespace: required field is missing (the namespace the add-on is installed into)",
		"addons/db/addon.yaml:10: spec.dependsOn[0]: add-on \"cache\" does not exist (add addons/cache/addon.yaml or remove it)",
		"addons/web/addon.yaml:11: spec.chart.extra: unknown field (known fields: repository, name, version, path)",
		"addons/web/addon.yaml:13: spec.upgrade.schedule: invalid cron schedule \"61 * * * *\": end of range (61) above maximum (59): 61 (five fields: minute hour day-of-month month day-of-week, e.g. \"0 6 * * 1\")",
		"clusters/dev/values/db.yaml: values for add-on \"db\", which cluster \"dev\" does not run (add {name: db} to spec.addons in clusters/dev/cluster.yaml, or delete it)",
		"clusters/prod/cluster.yaml:6: spec.kubernetesVersion: kubernetes version \"1.x\": must be a minor like \"1.34\" (the minor only, quoted, e.g. \"1.34\")",
		"clusters/prod/cluster.yaml:12: spec.addons[2].name: add-on \"web\" is already listed in spec.addons[0] (remove the duplicate)",
	}
	if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	t.Run("errors.As finds Errors and each Error", func(t *testing.T) {
		var all Errors
		if !errors.As(err, &all) || len(all) != len(want) {
			t.Fatalf("errors.As(Errors) = %d problems, want %d", len(all), len(want))
		}
		var one *Error
		if !errors.As(err, &one) || one.File != "addons/db/addon.yaml" || one.Line != 5 || one.Field != "spec.namespace" {
			t.Errorf("errors.As(*Error) = %+v, want the first problem", one)
		}
	})
}

// errorLines returns the problems in err one per line, failing when err is not an Errors.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("Load error = %v (%T), want config.Errors", err, err)
	}
	return strings.Split(all.Error(), "\n")
}
