package upgrade

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

const changes = "- kind: fixed\n  description: speaker crash on IPv6\n"

func demoChart(version, kubeVersion string, ann map[string]string) chartrepo.Chart {
	return chartrepo.Chart{
		Name: "demo", Version: version, KubeVersion: kubeVersion, Annotations: ann,
		Files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  version: " + version + "\n"},
	}
}

func sortAvail(a []Available) []Available {
	sort.Slice(a, func(i, j int) bool { return a[i].Version < a[j].Version })
	return a
}

func TestDiscoverHTTP(t *testing.T) {
	ctx := context.Background()
	repo := chartrepo.NewHTTP(t, chartrepo.WithBasicAuth("reader", "s3cret"))
	d1 := repo.Add(t, demoChart("1.0.0", "", nil))
	d2 := repo.Add(t, demoChart("1.1.0", ">=1.34.0-0", map[string]string{AnnotationChanges: changes}))
	t.Setenv("REPO_USER", "reader")
	t.Setenv("REPO_PASS", "s3cret")

	t.Run("lists every version with kubeVersion, digest and changes", func(t *testing.T) {
		d := NewDiscoverer(DiscoverOptions{Repositories: []config.ChartRepository{{URL: "https://charts.example.com", Mirror: repo.URL(), UsernameEnv: "REPO_USER", PasswordEnv: "REPO_PASS"}}})
		got, err := d.Versions(ctx, "https://charts.example.com", "demo", "1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		want := []Available{{Version: "1.0.0", Digest: d1}, {Version: "1.1.0", KubeVersion: ">=1.34.0-0", Digest: d2, Changes: changes}}
		if diff := cmp.Diff(want, sortAvail(got)); diff != "" {
			t.Errorf("Versions() (-want +got):\n%s", diff)
		}
	})
	t.Run("fails clearly without credentials", func(t *testing.T) {
		d := NewDiscoverer(DiscoverOptions{})
		_, err := d.Versions(ctx, repo.URL(), "demo", "")
		if err == nil || !contains(err.Error(), "401") || !contains(err.Error(), "repositories:") {
			t.Fatalf("Versions() error = %v, want a 401 naming repositories:", err)
		}
	})
	t.Run("unknown chart is an error", func(t *testing.T) {
		d := NewDiscoverer(DiscoverOptions{Repositories: []config.ChartRepository{{URL: repo.URL(), UsernameEnv: "REPO_USER", PasswordEnv: "REPO_PASS"}}})
		if _, err := d.Versions(ctx, repo.URL(), "nope", ""); err == nil || !contains(err.Error(), `chart "nope" not found`) {
			t.Fatalf("Versions() error = %v", err)
		}
	})
}

func TestDiscoverOCI(t *testing.T) {
	ctx := context.Background()
	reg := chartrepo.NewOCI(t)
	reg.Push(t, demoChart("0.9.0", "", nil))
	d1 := reg.Push(t, demoChart("1.0.0", "", nil))
	d2 := reg.Push(t, demoChart("1.1.0+build.1", ">=1.34.0-0", map[string]string{AnnotationChanges: changes}))

	d := NewDiscoverer(DiscoverOptions{})
	got, err := d.Versions(ctx, reg.Repository(), "demo", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	want := []Available{{Version: "1.0.0", Digest: d1}, {Version: "1.1.0+build.1", KubeVersion: ">=1.34.0-0", Digest: d2, Changes: changes}}
	if diff := cmp.Diff(want, sortAvail(got)); diff != "" {
		t.Errorf("Versions() (-want +got):\n%s", diff)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
