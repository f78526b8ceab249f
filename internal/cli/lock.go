package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

type lockOptions struct {
	g *GlobalOptions
	// Check fails, writing nothing, when a chart in use is not pinned yet.
	Check bool
	// CacheDir overrides the chart cache directory.
	CacheDir string
}

func newLockCmd(g *GlobalOptions) *cobra.Command {
	o := &lockOptions{g: g}
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Pin the digest of every chart version in use in addonsync.lock",
		Long: `lock pulls every chart version the add-ons of the working tree use from a repository,
checks those addonsync.lock already pins against their digest, and adds an entry for
each one it does not pin yet. Review the new entries and commit the lock: reconcile
refuses charts the lock does not pin, and every command refuses a chart whose digest
changed.`,
		Example: `  # pin what is in use, then review and commit
  addonsync lock && git diff addonsync.lock

  # in CI: fail when a chart is not pinned
  addonsync lock --check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.g.Ref != "" {
				return Usage(errors.New("lock writes the working tree's addonsync.lock: drop --ref (check out the branch instead)"))
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.Check, "check", false, "fail, writing nothing, when a chart in use is not pinned")
	addCacheDirFlag(cmd.Flags(), &o.CacheDir)
	return cmd
}

// Run pins the charts and writes the lock.
func (o *lockOptions) Run(ctx context.Context) error {
	cfg, err := loadConfig(o.g)
	if err != nil {
		return err
	}
	ro := render.DefaultOptions()
	ro.Logger = o.g.Logger
	if o.CacheDir != "" {
		ro.CacheDir = o.CacheDir
	}
	lock, added, err := render.New(ro).Lock(ctx, cfg)
	if err != nil {
		return err
	}
	for _, c := range added {
		fmt.Fprintf(o.g.ErrOut, "pinned %s %s from %s: %s\n", c.Name, c.Version, redactURL(c.Source), c.Digest)
	}
	if o.Check {
		if len(added) > 0 {
			return Usage(fmt.Errorf("%s: %d chart versions in use are not pinned (run addonsync lock and commit it)", config.LockFile, len(added)))
		}
		fmt.Fprintf(o.g.Out, "%s: every chart in use is pinned (%d)\n", config.LockFile, len(lock.Charts))
		return nil
	}
	if len(added) > 0 {
		if err := render.WriteLock(filepath.Join(o.g.Dir, config.LockFile), lock); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.g.Out, "%s: %d charts pinned, %d added\n", config.LockFile, len(lock.Charts), len(added))
	return nil
}
