package cli

import (
	"context"
	"errors"

	"github.com/addonsync/addonsync/internal/redact"
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

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrChanges):
		return ExitChanges
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitCluster
	default:
		return ExitCluster
	}
}
