package cli

import (
	"context"
	"errors"

	"github.com/addonsync/addonsync/internal/redact"
	"github.com/addonsync/addonsync/pkg/backport"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// Exit codes, mapped from errors in one place (ExitCode).
const (
	ExitOK      = 0 // success
	ExitChanges = 1 // diff found changes
	ExitUsage   = 2 // usage or config error
	ExitCluster = 3 // cluster, network or other runtime failure
)

// ErrChanges is returned by diff when it found changes; it maps to exit code 1.
var ErrChanges = errors.New("changes found")

// UsageError marks an error as a usage or config error (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a usage or config error (exit 2); nil stays nil.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// ErrorMessage is the text the CLI prints for err, with URL credentials redacted.
func ErrorMessage(err error) string { return redact.Text(err.Error()) }

// ExitCode maps an error returned by a command to the process exit code. It is the one
// place errors are classified, by type:
//
//	1  ErrChanges: diff found changes
//	3  a failure outside the config, even when config errors come with it: a chart
//	   repository (render.FetchError), the cluster's discovery (render.DiscoveryError), a
//	   cancelled or timed-out run; and any error not classified below (cluster, network)
//	2  usage and config: UsageError (flags, arguments, options; the config repo as loaded),
//	   config.Error(s), render.InputError (templates, values, overlays, APIs, the lock),
//	   branch cut's refusals (backport.NotAdmittedError, ErrBranchExists, ErrNotMinor)
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, ErrChanges) {
		return ExitChanges
	}
	var (
		fe *render.FetchError
		de *render.DiscoveryError
	)
	if errors.As(err, &fe) || errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ExitCluster
	}
	var (
		ue  *UsageError
		ce  *config.Error
		ces config.Errors
		ie  *render.InputError
		na  *backport.NotAdmittedError
	)
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &ces) || errors.As(err, &ie) ||
		errors.As(err, &na) || errors.Is(err, backport.ErrBranchExists) || errors.Is(err, backport.ErrNotMinor) {
		return ExitUsage
	}
	return ExitCluster
}
