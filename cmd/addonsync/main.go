// Command addonsync is the addonsync CLI; see internal/cli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/addonsync/addonsync/internal/cli"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := cli.NewRootCmd(cli.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	err := cmd.ExecuteContext(ctx)
	code := cli.ExitCode(err)
	if err != nil && code != cli.ExitChanges {
		fmt.Fprintf(os.Stderr, "error: %s\n", cli.ErrorMessage(err))
	}
	return code
}
