package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/addonsync/addonsync/pkg/backport"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// TestExitCodeByType checks the one place errors become exit codes, wrapped as commands
// wrap them.
func TestExitCodeByType(t *testing.T) {
	fetch := &render.FetchError{Op: "GET", URL: "https://charts.example/index.yaml", Err: errors.New("connection refused")}
	input := &render.InputError{Err: errors.New(`add-on "web": template: web/templates/x.yaml:3: nil pointer`)}
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"none", nil, ExitOK},
		{"diff found changes", fmt.Errorf("cluster %q: %w", "prod", ErrChanges), ExitChanges},
		{"usage", Usage(errors.New("--timeout: must not be negative")), ExitUsage},
		{"one config problem", fmt.Errorf("load: %w", &config.Error{File: "clusters/prod/cluster.yaml", Line: 3, Message: "bad"}), ExitUsage},
		{"config problems", config.Errors{{File: "addons/a/addon.yaml", Message: "bad"}}, ExitUsage},
		{"render input", fmt.Errorf("cluster %q: %w", "prod", input), ExitUsage},
		{"branch cut refused", fmt.Errorf("branch cut 1.40: %w", backport.ErrBranchExists), ExitUsage},
		{"chart repository down", fmt.Errorf("cluster %q: %w", "prod", fetch), ExitCluster},
		{"repository down beside a config error", errors.Join(input, fetch), ExitCluster},
		{"cancelled", fmt.Errorf("sync: %w", context.Canceled), ExitCluster},
		{"anything else", errors.New("apply failed: connection reset"), ExitCluster},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
