package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
)

// buildVersion identifies the running binary for the render cache key: its module version,
// VCS revision, Go version and every dependency's version (so a rebuild with another Helm
// or kustomize never reuses old renders). A development build (no release version, or a
// modified tree) adds the executable's size and modification time, as its code may differ
// under the same revision.
var buildVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown" + exeStamp()
	}
	sum := sha256.Sum256([]byte(bi.String()))
	v := bi.Main.Version + "+" + hex.EncodeToString(sum[:8])
	modified := bi.Main.Version == "" || bi.Main.Version == "(devel)"
	for _, s := range bi.Settings {
		if s.Key == "vcs.modified" && s.Value == "true" {
			modified = true
		}
	}
	if modified {
		v += exeStamp()
	}
	return v
})

func exeStamp() string {
	exe, err := os.Executable()
	if err != nil {
		return "+noexe"
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "+noexe"
	}
	return fmt.Sprintf("+%d.%d", fi.Size(), fi.ModTime().UnixNano())
}
