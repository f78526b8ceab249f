package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/addonsync/addonsync/internal/cli.Version=v1.2.3".
var Version = "dev"

// BuildVersion is Version, or the module version recorded in the binary when built with go install.
func BuildVersion() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

func newVersionCmd(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the addonsync version",
		Example: "  addonsync version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(g.Out, "addonsync %s (%s, %s/%s)\n", BuildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
