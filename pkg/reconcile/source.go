package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
)

// Source reads the config repo for a run.
type Source interface {
	// Fetch brings the source up to date (a mirror fetches its remote); once per run.
	Fetch(ctx context.Context) error
	// Config returns the config that lists the clusters.
	Config(ctx context.Context) (*config.Config, error)
	// ClusterConfig returns the config cluster renders from and the branch it was read from
	// ("" for a working tree).
	ClusterConfig(ctx context.Context, cluster string) (*config.Config, string, error)
}

// RepoSource reads the config repo from the git clone (or working tree) in Dir, mirroring
// Remote into Dir first when Remote.URL is set.
type RepoSource struct {
	// Dir is the clone, or the mirror's directory.
	Dir string
	// Ref says what to read (see config.Open): config.RefAuto for each cluster's own branch.
	Ref string
	// Remote, when its URL is set, is mirrored into Dir by Fetch (Remote.Dir is ignored).
	Remote git.RemoteOptions
}

var _ Source = RepoSource{}

// Fetch mirrors Remote into Dir; without a Remote URL it does nothing.
func (s RepoSource) Fetch(ctx context.Context) error {
	if s.Remote.URL == "" {
		return nil
	}
	o := s.Remote
	o.Dir = s.Dir
	_, err := git.Mirror(ctx, o)
	if errors.Is(err, git.ErrGitAuth) {
		return fmt.Errorf("%s: git token rejected: check the GitHub token (it needs contents read access): %w", o.URL, err)
	}
	return err
}

// Config loads the config at Ref (the main branch for config.RefAuto).
func (s RepoSource) Config(context.Context) (*config.Config, error) {
	return config.Open(s.Dir, s.Ref)
}

// ClusterConfig loads the config cluster renders from (config.OpenCluster).
func (s RepoSource) ClusterConfig(_ context.Context, cluster string) (*config.Config, string, error) {
	return config.OpenCluster(s.Dir, s.Ref, cluster)
}
