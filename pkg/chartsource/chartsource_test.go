package chartsource

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
)

func TestResolve(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REPO_USER": "bob", "REPO_TOKEN": "tok"}
	repos := []config.ChartRepository{
		{URL: "https://charts.example.com/", Mirror: "https://mirror.internal/charts/", UsernameEnv: "REPO_USER", PasswordFile: pw, CAFile: "/etc/ca.pem"},
		{URL: "oci://ghcr.io/org", PasswordEnv: "REPO_TOKEN"},
		{URL: "https://empty.example.com", PasswordEnv: "UNSET"},
	}
	tests := []struct {
		name, source string
		want         Remote
		wantErr      string
	}{
		{name: "mirror and credentials", source: "https://charts.example.com", want: Remote{
			Source: "https://charts.example.com", URL: "https://mirror.internal/charts",
			Username: "bob", Password: "s3cret", CAFile: "/etc/ca.pem",
		}},
		{name: "password from env", source: "oci://ghcr.io/org", want: Remote{Source: "oci://ghcr.io/org", URL: "oci://ghcr.io/org", Password: "tok"}},
		{name: "no entry", source: "https://other.example.com/", want: Remote{Source: "https://other.example.com/", URL: "https://other.example.com"}},
		{name: "empty env is an error", source: "https://empty.example.com", wantErr: "environment variable UNSET is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(repos, tt.source, func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for ref, want := range map[string]bool{
		"127.0.0.1:5000/charts": true, "localhost:5000": true, "[::1]:80/x": true,
		"ghcr.io/org": false, "10.0.0.1:5000": false,
	} {
		if got := IsLoopback(ref); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestHTTPClientRejectsBadCA(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Remote{CAFile: bad}).HTTPClient(0); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Fatalf("err = %v, want no PEM certificates", err)
	}
}
