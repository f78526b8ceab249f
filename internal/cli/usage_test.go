package cli

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestUsageErrorsExit2 checks that every error cobra finds before a command runs (flags,
// arguments, unknown commands) is a usage error, exit 2, with a line that says what to do.
func TestUsageErrorsExit2(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"diff", "--bogus", "prod"}, "unknown flag: --bogus"},
		{"missing argument", []string{"diff"}, "addonsync diff: accepts 1 arg(s), received 0"},
		{"too many arguments", []string{"sync", "a", "b"}, "addonsync sync: accepts 1 arg(s), received 2"},
		{"unknown command", []string{"nosuch"}, `unknown command "nosuch" for "addonsync"`},
		{"unknown command with a suggestion", []string{"difff"}, "did you mean diff?"},
		{"unknown subcommand", []string{"upgrade", "nosuch"}, `unknown command "nosuch" for "addonsync upgrade"`},
		{"bad output format", []string{"clusters", "-o", "xml", "-C", validFixture}, `invalid argument "xml" for "-o, --output" flag: must be table, wide, json or yaml`},
		{"bad flag value", []string{"sync", "--timeout", "soon", "prod"}, `invalid argument "soon" for "--timeout"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runConfigCmd(t, tc.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.want)
			}
			if !strings.Contains(stderr, "--help") {
				t.Errorf("stderr %q does not point to --help", stderr)
			}
		})
	}
}

func TestNoArgumentsPrintsHelp(t *testing.T) {
	stdout, _, code := runConfigCmd(t)
	if code != ExitOK || !strings.Contains(stdout, "Available Commands:") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
}

func TestClustersYAML(t *testing.T) {
	stdout, stderr, code := runConfigCmd(t, "clusters", "-C", validFixture, "-o", "yaml")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []clusterRow
	if err := yaml.UnmarshalStrict([]byte(stdout), &rows); err != nil {
		t.Fatalf("output is not the clusters as YAML: %v\n%s", err, stdout)
	}
	if len(rows) == 0 || rows[0].Name == "" || rows[0].KubernetesVersion == "" || len(rows[0].Addons) == 0 {
		t.Errorf("clusters -o yaml lacks names, versions or add-ons: %+v", rows)
	}
}
