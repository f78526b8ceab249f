package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Main runs addonsync with args (without the program name) and returns the process exit code.
// cmd/addonsync and the tests both call it, so what a test sees is what a user sees: the
// error line on stderr and the exit code mapped by ExitCode.
func Main(ctx context.Context, args []string, s Streams) int {
	root := NewRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := ExitCode(err)
	if err != nil && code != ExitChanges {
		fmt.Fprintf(s.ErrOut, "error: %s\n", ErrorMessage(err)) // URL credentials redacted
	}
	return code
}

// markUsageErrors makes every error cobra finds before a command runs a usage error (exit
// 2): an unknown flag or a bad flag value, a wrong number of arguments, an unknown command.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return Usage(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				err := args(cmd, a)
				var ue *UsageError
				if err == nil || errors.As(err, &ue) {
					return err
				}
				return Usage(fmt.Errorf("%s: %w (see '%s --help')", cmd.CommandPath(), err, cmd.CommandPath()))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownCommand is the Args of a command that only groups subcommands: any argument is an
// unknown command, named with cobra's suggestions.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return Usage(fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath()))
}

// helpWhenNoArgs is the RunE of a command that only groups subcommands.
func helpWhenNoArgs(cmd *cobra.Command, _ []string) error { return cmd.Help() }
