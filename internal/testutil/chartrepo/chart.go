package chartrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"sort"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// Chart describes a chart a test builds.
type Chart struct {
	// Name of the chart (Chart.yaml name).
	Name string
	// Version of the chart (Chart.yaml version).
	Version string
	// AppVersion is Chart.yaml appVersion (optional).
	AppVersion string
	// KubeVersion is Chart.yaml kubeVersion, a semver constraint (optional).
	KubeVersion string
	// Files maps a path inside the chart ("templates/cm.yaml", "values.yaml", "crds/x.yaml",
	// "charts/sub/Chart.yaml") to its content. A "Chart.yaml" here replaces the generated one.
	Files map[string]string
	// Dependencies are Chart.yaml dependencies (with condition and tags).
	Dependencies []*chart.Dependency
	// Annotations are Chart.yaml annotations.
	Annotations map[string]string
}

// Metadata returns the Chart.yaml metadata of c.
func (c Chart) Metadata() *chart.Metadata {
	return &chart.Metadata{
		APIVersion:   chart.APIVersionV2,
		Name:         c.Name,
		Version:      c.Version,
		AppVersion:   c.AppVersion,
		KubeVersion:  c.KubeVersion,
		Type:         "application",
		Dependencies: c.Dependencies,
		Annotations:  c.Annotations,
	}
}

// epoch is the modification time of every file in a built chart, so archives are byte-identical.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildChart packages c as a chart archive (.tgz). The bytes are deterministic: the same
// Chart always gives the same archive, and so the same digest.
func BuildChart(t testing.TB, c Chart) []byte {
	t.Helper()
	files := map[string][]byte{}
	for p, content := range c.Files {
		files[p] = []byte(content)
	}
	if _, ok := files["Chart.yaml"]; !ok {
		meta, err := yaml.Marshal(c.Metadata())
		if err != nil {
			t.Fatalf("chart %s: marshal Chart.yaml: %v", c.Name, err)
		}
		files["Chart.yaml"] = meta
	}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.ModTime = epoch
	tw := tar.NewWriter(gz)
	for _, p := range names {
		h := &tar.Header{
			Name:     path.Join(c.Name, p),
			Mode:     0o644,
			Size:     int64(len(files[p])),
			ModTime:  epoch,
			Typeflag: tar.TypeReg,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("chart %s: tar %s: %v", c.Name, p, err)
		}
		if _, err := tw.Write(files[p]); err != nil {
			t.Fatalf("chart %s: tar %s: %v", c.Name, p, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("chart %s: close tar: %v", c.Name, err)
	}
	if err := gz.Close(); err != nil {
		t.Fatalf("chart %s: close gzip: %v", c.Name, err)
	}
	return buf.Bytes()
}

// Digest returns "sha256:<hex>" of data, the form addonsync.lock records.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
