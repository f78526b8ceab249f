package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

func TestRegistryCredentials(t *testing.T) {
	reg := chartrepo.NewOCI(t, chartrepo.WithOCIBasicAuth("robot", "t0ken"))
	reg.Push(t, webChart)
	rc := webConfig(reg.Repository())
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rc.repos = []config.ChartRepository{{URL: reg.Repository(), UsernameEnv: "REG_USER", PasswordFile: pw}}
	env := func(k string) string { return map[string]string{"REG_USER": "robot"}[k] }
	t.Run("pulls from an OCI registry with a password file", func(t *testing.T) {
		if _, err := newTestRenderer(t, func(o *Options) { o.Env = env }).RenderAddon(context.Background(), rc.config(), "prod", "web"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fails without the credentials", func(t *testing.T) {
		rc.repos = nil
		_, err := newTestRenderer(t).RenderAddon(context.Background(), rc.config(), "prod", "web")
		if err == nil || !strings.Contains(err.Error(), `add-on "web": pull oci://`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRepositoryCAFile(t *testing.T) {
	repo := chartrepo.NewHTTP(t, chartrepo.WithTLS())
	repo.Add(t, webChart)
	rc := webConfig(repo.URL())
	t.Run("refuses a certificate it does not trust", func(t *testing.T) {
		_, err := newTestRenderer(t).RenderAddon(context.Background(), rc.config(), "prod", "web")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("trusts the repository's caFile", func(t *testing.T) {
		rc.repos = []config.ChartRepository{{URL: repo.URL(), CAFile: repo.CAFile(t)}}
		if _, err := newTestRenderer(t).RenderAddon(context.Background(), rc.config(), "prod", "web"); err != nil {
			t.Fatal(err)
		}
	})
}
