package config

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLoadValid(t *testing.T) {
	cfg, err := Load(os.DirFS("testdata/valid"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Run("reads every add-on and cluster", func(t *testing.T) {
		want := []string{"cert-manager", "ingress-nginx", "local-issuers", "metallb", "namespaces"}
		if diff := cmp.Diff(want, cfg.AddonNames()); diff != "" {
			t.Errorf("add-ons (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"dev", "prod"}, cfg.ClusterNames()); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
	})
	t.Run("fills in repository defaults and keeps set values", func(t *testing.T) {
		want := RepositorySpec{
			GitHub:             GitHubSpec{Owner: "example", Repo: "platform-addons", URL: DefaultGitHubURL, Labels: []string{"addonsync"}},
			Branches:           BranchSpec{Main: "main", ReleasePrefix: "release-", UpgradePrefix: "addonsync/upgrade/"},
			FieldManager:       "platform",
			InventoryNamespace: "addonsync-system",
			Repositories:       []ChartRepository{{URL: "https://charts.jetstack.io", Mirror: "https://mirror.example.com/jetstack"}},
			Prune:              PruneLimits{MaxObjects: ptr(10), MaxPercent: ptr(30)},
			Commit:             CommitSpec{Name: "addonsync", Email: "addonsync@users.noreply.github.com"},
			HelmReleases:       HelmReleasesSpec{Retire: HelmRetireDelete},
		}
		if diff := cmp.Diff(want, cfg.Repository.Spec); diff != "" {
			t.Errorf("repository spec (-want +got):\n%s", diff)
		}
		if cfg.Repository.File != "addonsync.yaml" {
			t.Errorf("Repository.File = %q", cfg.Repository.File)
		}
	})
	t.Run("fills in add-on defaults", func(t *testing.T) {
		want := &Addon{
			TypeMeta: TypeMeta{APIVersion: APIVersion, Kind: KindAddon},
			Metadata: ObjectMeta{Name: "cert-manager"},
			Spec: AddonSpec{
				Namespace:   "cert-manager",
				Chart:       &ChartSpec{Repository: "https://charts.jetstack.io", Name: "cert-manager", Version: "v1.16.2"},
				ReleaseName: "cert-manager",
				Upgrade:     UpgradePolicy{Enabled: ptr(true), Constraint: ">=1.16.0 <2.0.0", Schedule: "0 6 * * 1"},
				Prune:       PrunePolicy{Limits: PruneLimits{MaxObjects: ptr(10), MaxPercent: ptr(50)}},
				Sync:        SyncPolicy{ForceConflicts: ptr(true), Wait: ptr(true), Timeout: "5m"},
			},
			File: "addons/cert-manager/addon.yaml",
			Dir:  "addons/cert-manager",
		}
		if diff := cmp.Diff(want, cfg.Addons["cert-manager"]); diff != "" {
			t.Errorf("cert-manager (-want +got):\n%s", diff)
		}
		if got := cfg.Addons["local-issuers"].Spec; *got.Upgrade.Enabled || got.ReleaseName != "issuers" {
			t.Errorf("local-issuers: upgrade.enabled = %v, releaseName = %q; want false, issuers", *got.Upgrade.Enabled, got.ReleaseName)
		}
		if got := cfg.Addons["metallb"].Spec.Upgrade.Enabled; *got {
			t.Errorf("metallb: upgrade.enabled = true, want the false it sets")
		}
	})
	t.Run("fills in cluster defaults", func(t *testing.T) {
		want := KubeconfigRef{Secret: &SecretKeyRef{Namespace: "addonsync-system", Name: "prod-kubeconfig", Key: "kubeconfig"}}
		if diff := cmp.Diff(want, cfg.Clusters["prod"].Spec.Kubeconfig); diff != "" {
			t.Errorf("prod kubeconfig (-want +got):\n%s", diff)
		}
	})
	t.Run("orders a cluster's add-ons by dependsOn, ties by name", func(t *testing.T) {
		addons, err := cfg.AddonsFor("prod")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range addons {
			got = append(got, a.Metadata.Name)
		}
		want := []string{"cert-manager", "local-issuers", "metallb", "ingress-nginx", "namespaces"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AddonsFor(prod) (-want +got):\n%s", diff)
		}
		if _, err := cfg.AddonsFor("staging"); err == nil {
			t.Errorf("AddonsFor(staging) succeeded for a cluster that does not exist")
		}
	})
}

func TestLoadDefaultsWithoutRepositoryFile(t *testing.T) {
	fsys := fstest.MapFS{
		"clusters/dev/cluster.yaml": {Data: []byte("apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata: {name: dev}\nspec:\n  kubernetesVersion: \"1.33\"\n  addons: []\n")},
	}
	cfg, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultRepository(), cfg.Repository, cmpopts.IgnoreFields(Repository{}, "File")); diff != "" {
		t.Errorf("repository (-want +got):\n%s", diff)
	}
	if cfg.Repository.File != "" {
		t.Errorf("Repository.File = %q, want empty for a repo without addonsync.yaml", cfg.Repository.File)
	}
	if cfg.FS == nil {
		t.Errorf("Config.FS is nil")
	}
}

func TestLoadRejectsADirectoryThatIsNotAConfigRepo(t *testing.T) {
	_, err := Load(fstest.MapFS{"README.md": {Data: []byte("hi")}})
	want := []string{`.: not an addonsync config repo: no addonsync.yaml, addons/ or clusters/ (run addonsync in the config repo or pass --repo DIR)`}
	if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAddonsForTiesAndCycles(t *testing.T) {
	addon := func(name string, deps ...string) *Addon {
		return &Addon{Metadata: ObjectMeta{Name: name}, Spec: AddonSpec{DependsOn: deps}}
	}
	cluster := func(names ...string) *Cluster {
		c := &Cluster{}
		for _, n := range names {
			c.Spec.Addons = append(c.Spec.Addons, ClusterAddon{Name: n})
		}
		return c
	}
	cfg := &Config{
		Addons: map[string]*Addon{
			"a": addon("a", "d"), "b": addon("b"), "c": addon("c", "b"), "d": addon("d", "b"),
			"x": addon("x", "y"), "y": addon("y", "x"),
		},
		Clusters: map[string]*Cluster{"one": cluster("c", "a", "d", "b"), "loop": cluster("x", "y"), "partial": cluster("a")},
	}
	addons, err := cfg.AddonsFor("one")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range addons {
		got = append(got, a.Metadata.Name)
	}
	if diff := cmp.Diff([]string{"b", "c", "d", "a"}, got); diff != "" {
		t.Errorf("AddonsFor(one) (-want +got):\n%s", diff)
	}
	if _, err := cfg.AddonsFor("loop"); err == nil || err.Error() != `cluster "loop": dependsOn cycle among add-ons [x y]` {
		t.Errorf("AddonsFor(loop) error = %v", err)
	}
	if _, err := cfg.AddonsFor("partial"); err == nil || err.Error() != `cluster "partial": add-on "a" depends on "d", which the cluster does not run` {
		t.Errorf("AddonsFor(partial) error = %v", err)
	}
}

func TestParseMinor(t *testing.T) {
	for in, want := range map[string]int{"1.34": 34, "1.9": 9, "1.0": 0, "1.100": 100} {
		if got, err := ParseMinor(in); err != nil || got != want {
			t.Errorf("ParseMinor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "1.", "v1.34", "1.34.2", "2.1", "1.034", "1.-1", "1.3x", " 1.34"} {
		if _, err := ParseMinor(in); err == nil {
			t.Errorf("ParseMinor(%q) succeeded, want an error", in)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	cases := []struct {
		err  Error
		want string
	}{
		{
			Error{File: "clusters/prod/cluster.yaml", Line: 7, Column: 9, Field: "spec.addons[2].name", Message: `add-on "foo" does not exist`, Hint: "add addons/foo/addon.yaml or remove it"},
			`clusters/prod/cluster.yaml:7: spec.addons[2].name: add-on "foo" does not exist (add addons/foo/addon.yaml or remove it)`,
		},
		{Error{File: "addons/db", Message: "directory has no addon.yaml"}, "addons/db: directory has no addon.yaml"},
		{Error{File: "addons/db/values.yaml", Line: 3, Message: "invalid YAML: x"}, "addons/db/values.yaml:3: invalid YAML: x"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
