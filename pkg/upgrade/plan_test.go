package upgrade

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
)

func ptr[T any](v T) *T { return &v }

func TestPlan(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC) // a Monday
	branches := []Branch{{Name: "release-1.34", KubernetesVersion: "1.34"}, {Name: "release-1.33", KubernetesVersion: "1.33"}}
	avail := []Available{
		{Version: "1.2.0", KubeVersion: ">=1.25.0-0"},
		{Version: "1.3.0", KubeVersion: ">=1.34.0-0", Digest: "sha256:13", Changes: "- kind: added\n  description: x\n"},
		{Version: "1.4.0-rc.1", KubeVersion: ">=1.34.0-0"},
		{Version: "2.0.0", KubeVersion: ">=1.35.0-0"},
		{Version: "latest"},
	}
	cur := func(p config.UpgradePolicy) Current {
		return Current{Addon: "metallb", Source: "https://charts.example", Chart: "metallb", Version: "1.2.0", Policy: p}
	}
	tests := []struct {
		name    string
		current Current
		avail   []Available
		want    Bump
	}{
		{
			name:    "proposes newest within the constraint and fits branches",
			current: cur(config.UpgradePolicy{Constraint: "<2.0.0"}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUpgrade, From: "1.2.0", To: "1.3.0", Newest: "2.0.0", Due: true,
				Target: avail[1],
				Branches: []BranchFit{
					{Branch: "release-1.33", KubernetesVersion: "1.33", Compatible: false},
					{Branch: "release-1.34", KubernetesVersion: "1.34", Compatible: true},
				},
			},
		},
		{
			name:    "no constraint takes the newest release",
			current: cur(config.UpgradePolicy{}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUpgrade, From: "1.2.0", To: "2.0.0", Newest: "2.0.0", Due: true,
				Target: avail[3],
				Branches: []BranchFit{
					{Branch: "release-1.33", KubernetesVersion: "1.33"},
					{Branch: "release-1.34", KubernetesVersion: "1.34"},
				},
			},
		},
		{
			name:    "pre-releases only when allowed",
			current: cur(config.UpgradePolicy{Constraint: ">=1.0.0 <2.0.0", PreRelease: true}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUpgrade, From: "1.2.0", To: "1.4.0-rc.1", Newest: "2.0.0", Due: true,
				Target: avail[2],
				Branches: []BranchFit{
					{Branch: "release-1.33", KubernetesVersion: "1.33"},
					{Branch: "release-1.34", KubernetesVersion: "1.34", Compatible: true},
				},
			},
		},
		{
			name:    "up to date when nothing newer is allowed",
			current: cur(config.UpgradePolicy{Constraint: "~1.2.0"}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUpToDate, From: "1.2.0", Newest: "2.0.0",
			},
		},
		{
			name:    "never proposes a downgrade",
			current: Current{Addon: "metallb", Version: "3.0.0"},
			avail:   avail,
			want:    Bump{Addon: "metallb", Status: StatusUpToDate, From: "3.0.0", Newest: "2.0.0"},
		},
		{
			name:    "disabled policy proposes nothing",
			current: cur(config.UpgradePolicy{Enabled: ptr(false)}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusDisabled, Reason: "upgrade.enabled is false", From: "1.2.0",
			},
		},
		{
			name:    "schedule ticked within the window is due",
			current: cur(config.UpgradePolicy{Constraint: "<1.4.0", Schedule: "0 6 * * 1"}),
			avail:   avail[:2],
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUpgrade, From: "1.2.0", To: "1.3.0", Newest: "1.3.0", Due: true,
				Target: avail[1],
				Branches: []BranchFit{
					{Branch: "release-1.33", KubernetesVersion: "1.33"},
					{Branch: "release-1.34", KubernetesVersion: "1.34", Compatible: true},
				},
			},
		},
		{
			name:    "schedule not ticked within the window is not due",
			current: cur(config.UpgradePolicy{Schedule: "0 6 * * 3"}),
			avail:   avail[:2],
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUpgrade, From: "1.2.0", To: "1.3.0", Newest: "1.3.0", Due: false,
				Target: avail[1],
				Branches: []BranchFit{
					{Branch: "release-1.33", KubernetesVersion: "1.33"},
					{Branch: "release-1.34", KubernetesVersion: "1.34", Compatible: true},
				},
			},
		},
		{
			name:    "bad constraint is invalid",
			current: cur(config.UpgradePolicy{Constraint: "not a range"}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusInvalid, From: "1.2.0",
				Reason: `upgrade.constraint "not a range": improper constraint: "not a range"`,
			},
		},
		{
			name:    "bad schedule is invalid",
			current: cur(config.UpgradePolicy{Schedule: "every day"}),
			avail:   avail,
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusInvalid, From: "1.2.0",
				Reason: `upgrade.schedule "every day": expected exactly 5 fields, found 2: [every day]`,
			},
		},
		{
			name:    "current version not semver is invalid",
			current: Current{Addon: "metallb", Version: "main"},
			avail:   avail,
			want:    Bump{Addon: "metallb", Status: StatusInvalid, From: "main", Reason: `current version "main" is not semver`},
		},
		{
			name:    "nothing discovered is unknown",
			current: cur(config.UpgradePolicy{}),
			want: Bump{
				Addon: "metallb", Source: "https://charts.example", Chart: "metallb",
				Status: StatusUnknown, From: "1.2.0", Reason: "no versions found upstream",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Plan([]Current{tt.current}, map[string][]Available{"metallb": tt.avail}, branches, now)
			if diff := cmp.Diff([]Bump{tt.want}, got); diff != "" {
				t.Errorf("Plan() (-want +got):\n%s", diff)
			}
			if got[0].Actionable() != (tt.want.Status == StatusUpgrade && tt.want.Due) {
				t.Errorf("Actionable() = %v", got[0].Actionable())
			}
		})
	}
}

func TestPlanOrdersByAddon(t *testing.T) {
	got := Plan([]Current{{Addon: "b", Version: "1.0.0"}, {Addon: "a", Version: "1.0.0"}}, nil, nil, time.Now())
	if got[0].Addon != "a" || got[1].Addon != "b" {
		t.Errorf("Plan() order = %s, %s; want a, b", got[0].Addon, got[1].Addon)
	}
}

func TestKubeVersionAdmits(t *testing.T) {
	tests := []struct {
		constraint, minor string
		want              bool
	}{
		{"", "1.33", true},
		{">=1.25.0-0", "1.33", true},
		{">=1.25.0", "1.33", true},
		{">=1.34.0-0", "1.33", false},
		{">=1.34.0", "1.34", true},
		{">=1.21.0-0 <1.34.0-0", "1.33", true},
		{">=1.21.0-0 <1.34.0-0", "1.34", false},
		{"<1.34.0", "1.34", false},
		{"^1.30.0", "1.34", true},
		{"~1.33.0", "1.34", false},
		{"garbage", "1.33", false},
		{">=1.25.0", "v1.33", true},
	}
	for _, tt := range tests {
		if got := KubeVersionAdmits(tt.constraint, tt.minor); got != tt.want {
			t.Errorf("KubeVersionAdmits(%q, %q) = %v, want %v", tt.constraint, tt.minor, got, tt.want)
		}
	}
}

func TestReleaseBranches(t *testing.T) {
	got := ReleaseBranches([]string{"main", "release-1.34", "release-1.33", "release-x", "release-1.33", "release-1.3a"}, "release-")
	want := []Branch{{Name: "release-1.33", KubernetesVersion: "1.33"}, {Name: "release-1.34", KubernetesVersion: "1.34"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReleaseBranches() (-want +got):\n%s", diff)
	}
}
