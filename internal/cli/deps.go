package cli

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
)

// configRemote is the config repo's remote when no flag names it: $ADDONSYNC_REMOTE, else
// the origin of the clone holding dir, else "".
func configRemote(dir string) string {
	if r := os.Getenv(envRemote); r != "" {
		return r
	}
	if repo, err := git.Open(dir); err == nil {
		return repo.RemoteURL()
	}
	return ""
}

// checkHTTPSRemote accepts an http(s) URL without credentials.
func checkHTTPSRemote(what, remote string) error {
	u, err := url.Parse(remote)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return Usage(fmt.Errorf("%s: %s is not an HTTPS URL (SSH remotes are not supported; use the https:// clone URL)", what, redactURL(remote)))
	}
	if u.User != nil {
		return Usage(fmt.Errorf("%s: the URL holds credentials; remove them and give the token with --github-token-file", what))
	}
	return nil
}

// checkUpgradeAccess checks what reconcile's upgrade pull requests need: an HTTPS remote
// and a token.
func checkUpgradeAccess(remote, token string) error {
	if remote == "" {
		return Usage(errors.New("upgrade pull requests need the config repo's remote: give --repo-url, set $ADDONSYNC_REMOTE, " +
			"or run in a clone with an origin; or pass --no-upgrade"))
	}
	if err := checkHTTPSRemote("remote "+redactURL(remote), remote); err != nil {
		return err
	}
	if token == "" {
		return Usage(errors.New("upgrade pull requests need a GitHub token: give --github-token-file or set $GITHUB_TOKEN; or pass --no-upgrade"))
	}
	return nil
}

// sharedRenderOptions are the render options commands share: the chart cache in cacheDir (""
// for the default) and the global logger.
func sharedRenderOptions(g *GlobalOptions, cacheDir string) render.Options {
	ro := render.DefaultOptions()
	ro.Logger = g.Logger
	ro.CacheDir = cmp.Or(cacheDir, ro.CacheDir)
	return ro
}

// newRenderer is a renderer with sharedRenderOptions.
func newRenderer(g *GlobalOptions, cacheDir string) *render.Renderer {
	return render.New(sharedRenderOptions(g, cacheDir))
}

// subdir is name under parent, or "" when parent is "" (nothing kept on disk).
func subdir(parent, name string) string {
	if parent == "" {
		return ""
	}
	return filepath.Join(parent, name)
}
