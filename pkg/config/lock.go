package config

// Lock is addonsync.lock at the repo root: the digest of every chart version the repo uses.
// Render refuses a pulled chart whose digest differs from the one recorded here; upgrade
// adds the new version's entry when it bumps an add-on.
type Lock struct {
	TypeMeta `json:",inline"`
	// Charts are sorted by Source, Name, Version.
	Charts []LockedChart `json:"charts"`
}

// LockedChart pins one chart version.
type LockedChart struct {
	// Source is the upstream repository URL or oci:// reference as written in addon.yaml
	// (never the mirror).
	Source string `json:"source"`
	// Name of the chart.
	Name string `json:"name"`
	// Version of the chart.
	Version string `json:"version"`
	// Digest is "sha256:<hex>" of the chart archive (.tgz) bytes.
	Digest string `json:"digest"`
}
