package chartrepo

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	helmregistry "helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

var demo = Chart{
	Name: "demo", Version: "1.2.3", AppVersion: "9.9",
	Files: map[string]string{
		"values.yaml":                 "x: 1\n",
		"templates/cm.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
		"charts/sub/Chart.yaml":       "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"charts/sub/templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
	},
	Dependencies: []*chart.Dependency{{Name: "sub", Version: "0.1.0", Condition: "sub.enabled"}},
}

func TestBuildChart(t *testing.T) {
	t.Run("is deterministic", func(t *testing.T) {
		if !bytes.Equal(BuildChart(t, demo), BuildChart(t, demo)) {
			t.Fatal("two builds of the same chart differ")
		}
	})
	t.Run("loads with helm's loader, sub-charts included", func(t *testing.T) {
		c, err := loader.LoadArchive(bytes.NewReader(BuildChart(t, demo)))
		if err != nil {
			t.Fatal(err)
		}
		if c.Name() != "demo" || c.Metadata.Version != "1.2.3" || len(c.Dependencies()) != 1 || c.Dependencies()[0].Name() != "sub" {
			t.Fatalf("loaded %s %s with %d sub-charts", c.Name(), c.Metadata.Version, len(c.Dependencies()))
		}
	})
}

func TestHTTPRepo(t *testing.T) {
	r := NewHTTP(t, WithBasicAuth("u", "p"))
	digest := r.Add(t, demo)
	get := func(path string, auth bool) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, r.URL()+path, nil)
		if auth {
			req.SetBasicAuth("u", "p")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	t.Run("refuses requests without credentials", func(t *testing.T) {
		if code, _ := get("/index.yaml", false); code != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", code)
		}
	})
	t.Run("serves an index with absolute URLs and digests", func(t *testing.T) {
		_, b := get("/index.yaml", true)
		var idx repo.IndexFile
		if err := yaml.Unmarshal(b, &idx); err != nil {
			t.Fatal(err)
		}
		cv, err := idx.Get("demo", "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{r.URL() + "/demo-1.2.3.tgz"}
		if diff := cmp.Diff(want, cv.URLs); diff != "" {
			t.Errorf("urls (-want +got):\n%s", diff)
		}
		if "sha256:"+cv.Digest != digest {
			t.Errorf("index digest %s, Add returned %s", cv.Digest, digest)
		}
	})
	t.Run("serves the archive and counts requests", func(t *testing.T) {
		_, b := get(ArchivePath("demo", "1.2.3"), true)
		if Digest(b) != digest {
			t.Fatalf("archive digest %s, want %s", Digest(b), digest)
		}
		if n := r.Requests("/demo-1.2.3.tgz"); n != 1 {
			t.Fatalf("requests = %d, want 1", n)
		}
	})
}

func TestOCIRegistry(t *testing.T) {
	r := NewOCI(t)
	digest := r.Push(t, demo)
	client, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(), helmregistry.ClientOptWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Pull(r.Host() + "/charts/demo:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if got := Digest(res.Chart.Data); got != digest {
		t.Fatalf("pulled digest %s, want %s", got, digest)
	}
	if r.Ref("demo") != "oci://"+r.Host()+"/charts/demo" {
		t.Fatalf("Ref = %s", r.Ref("demo"))
	}
	if r.Requests(digest) == 0 {
		t.Fatal("no request counted for the chart blob")
	}
}
