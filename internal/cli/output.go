package cli

import (
	"github.com/spf13/pflag"
)

// addAddonsFlag declares the repeatable --addon filter with its help text.
func addAddonsFlag(f *pflag.FlagSet, p *[]string, help string) {
	f.StringArrayVar(p, "addon", nil, help)
}

// addCacheDirFlag declares --cache-dir, the chart and render cache directory.
func addCacheDirFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "cache-dir", "", "chart and render cache directory (default $XDG_CACHE_HOME/addonsync/charts)")
}
