package deploy_test

import (
	"io"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/cli"
)

// checkFlags finds the addonsync command the args name (e.g. reconcile, run) in the real
// command tree and checks that each --flag is one of its flags.
func checkFlags(t *testing.T, subject string, args []string) {
	t.Helper()
	root := cli.NewRootCmd(cli.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	var path []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		path = append(path, a)
	}
	if len(path) == 0 {
		t.Fatalf("%s: args %q name no addonsync command", subject, args)
	}
	cmd, rest, err := root.Find(path)
	if err != nil || cmd == root || len(rest) > 0 {
		var have []string
		for _, c := range root.Commands() {
			have = append(have, c.Name())
		}
		t.Fatalf("%s: `addonsync %s` does not exist (yet): the manifests run a command the binary lacks; addonsync has %v", subject, strings.Join(path, " "), have)
	}
	// flagType is the type of --name ("bool", "string", ...), or "" when the command has none.
	flagType := func(name string) string {
		f := cmd.LocalFlags().Lookup(name)
		if f == nil {
			f = cmd.InheritedFlags().Lookup(name)
		}
		if f == nil {
			return ""
		}
		return f.Value.Type()
	}
	for i := len(path); i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			t.Errorf("%s: arg %q: use --flag=value, one per arg, so the manifest reads unambiguously", subject, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		typ := flagType(name)
		if typ == "" {
			t.Errorf("%s: `addonsync %s` has no flag --%s", subject, strings.Join(path, " "), name)
			continue
		}
		if !hasValue && typ != "bool" {
			t.Errorf("%s: --%s takes a value: write --%s=VALUE", subject, name, name)
		}
	}
}
