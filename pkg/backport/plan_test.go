package backport

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func upgradeCommit(sha, addon, from, to string, extra ...string) Commit {
	msg := addon + ": " + from + " -> " + to + "\n\nBump chart.\n\n" + TrailerUpgrade + ": " + addon + " " + from + " -> " + to + "\n"
	for _, e := range extra {
		msg += e + "\n"
	}
	return Commit{SHA: sha, Message: msg}
}

func TestParseChange(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		ok   bool
		want Change
	}{
		{"plain commit", "fix: values\n\nSigned-off-by: a <a@example.com>\n", false, Change{}},
		{
			"upgrade", upgradeCommit("a1", "ingress-nginx", "4.14.5", "4.15.1").Message, true,
			Change{Kind: KindUpgrade, Upgrade: &Upgrade{"ingress-nginx", "4.14.5", "4.15.1"}, All: true},
		},
		{
			"upgrade squashed by GitHub (title with PR number, trailer in the list)",
			"ingress-nginx: 4.14.5 -> 4.15.1 (#12)\n\n* ingress-nginx: 4.14.5 -> 4.15.1\n\nAddonsync-Upgrade: ingress-nginx 4.14.5 -> 4.15.1\n", true,
			Change{Kind: KindUpgrade, Upgrade: &Upgrade{"ingress-nginx", "4.14.5", "4.15.1"}, All: true},
		},
		{
			"upgrade restricted to a branch", upgradeCommit("a1", "metallb", "0.14.0", "0.15.0", "Addonsync-Backport: release-1.34").Message, true,
			Change{Kind: KindUpgrade, Upgrade: &Upgrade{"metallb", "0.14.0", "0.15.0"}, Targets: []string{"release-1.34"}},
		},
		{
			"backport to two branches", "fix(coredns): cache 30s\n\nAddonsync-Backport: release-1.33, release-1.34\n", true,
			Change{Kind: KindCherryPick, Targets: []string{"release-1.33", "release-1.34"}},
		},
		{"backport to all, key case-insensitive", "fix\n\naddonsync-backport: all\n", true, Change{Kind: KindCherryPick, All: true}},
		{
			"malformed upgrade trailer falls back to backport request", "x\n\nAddonsync-Upgrade: ingress-nginx\nAddonsync-Backport: all\n", true,
			Change{Kind: KindCherryPick, All: true},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ParseChange(Commit{SHA: "a1", Message: c.msg})
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			c.want.Commit = Commit{SHA: "a1", Message: c.msg}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCarriedBy(t *testing.T) {
	cases := []struct {
		name, msg string
		want      []string
	}{
		{"git cherry-pick -x", "fix\n\n(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)\n", []string{"0123456789abcdef0123456789abcdef01234567"}},
		{"trailer", "[release-1.33] fix\n\nAddonsync-Backport-Of: 89abcdef0123\n", []string{"89abcdef0123"}},
		{
			"squash of a backport PR keeps the body's trailer", "[release-1.33] fix (#7)\n\nBackport of 89abcdef0123 to release-1.33.\n\nAddonsync-Backport-Of: 89abcdef0123\n\n* fix\n\nAddonsync-Backport-Of: 89abcdef0123\n",
			[]string{"89abcdef0123", "89abcdef0123"},
		},
		{"too short or not hex", "Addonsync-Backport-Of: abc\nAddonsync-Backport-Of: zzzzzzzzz\n", nil},
		{"nothing", "fix typo\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, CarriedBy(c.msg)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

type planRow struct {
	Branch, SHA string
	Action      Action
	Reason      string
}

func rows(items []Item) []planRow {
	var out []planRow
	for _, it := range items {
		out = append(out, planRow{it.Branch, it.Change.Commit.SHA, it.Action, it.Reason})
	}
	return out
}

func mustChange(t *testing.T, c Commit) Change {
	t.Helper()
	ch, ok := ParseChange(c)
	if !ok {
		t.Fatalf("commit %s asks for nothing", c.SHA)
	}
	return ch
}

func TestPlan(t *testing.T) {
	br := func(name, minor string, versions map[string]string, carried ...string) Branch {
		b := Branch{Name: name, KubernetesVersion: minor, Versions: versions, Carried: map[string]bool{}}
		for _, c := range carried {
			b.Carried[c] = true
		}
		return b
	}
	ingress := func(v string) map[string]string { return map[string]string{"ingress-nginx": v, "metallb": "0.14.0"} }
	kube := KubeVersions{
		Key("ingress-nginx", "4.15.1"): ">=1.30.0-0",
		Key("ingress-nginx", "4.16.0"): ">=1.33.0-0",
		Key("metallb", "0.15.0"):       "",
	}
	up1 := upgradeCommit("aaaaaaaaaaaa1111", "ingress-nginx", "4.14.5", "4.15.1")
	up2 := upgradeCommit("bbbbbbbbbbbb2222", "ingress-nginx", "4.15.1", "4.16.0")
	upM := upgradeCommit("cccccccccccc3333", "metallb", "0.14.0", "0.15.0", "Addonsync-Backport: release-1.34")
	fix := Commit{SHA: "dddddddddddd4444", Message: "fix(coredns): cache\n\nAddonsync-Backport: release-1.33, release-1.35\n"}
	all := Commit{SHA: "eeeeeeeeeeee5555", Message: "docs\n\nAddonsync-Backport: all\n"}

	cases := []struct {
		name     string
		commits  []Commit
		branches []Branch
		kube     KubeVersions
		want     []planRow
	}{
		{
			name:     "upgrade replayed where admitted, skipped below kubeVersion and where already at it",
			commits:  []Commit{up1},
			branches: []Branch{br("release-1.29", "1.29", ingress("4.14.5")), br("release-1.33", "1.33", ingress("4.14.5")), br("release-1.34", "1.34", ingress("4.15.1")), br("release-1.35", "1.35", ingress("4.16.0"))},
			kube:     kube,
			want: []planRow{
				{"release-1.29", up1.SHA, ActionSkip, `chart ingress-nginx 4.15.1 requires Kubernetes ">=1.30.0-0", which excludes 1.29`},
				{"release-1.33", up1.SHA, ActionReplay, ""},
				{"release-1.34", up1.SHA, ActionSkip, "release-1.34 already has ingress-nginx 4.15.1"},
				{"release-1.35", up1.SHA, ActionSkip, "release-1.35 has ingress-nginx 4.16.0, past 4.15.1"},
			},
		},
		{
			name:     "newest admitted upgrade supersedes older ones; an older one is replayed where the newest is not admitted",
			commits:  []Commit{up1, up2},
			branches: []Branch{br("release-1.31", "1.31", ingress("4.14.5")), br("release-1.33", "1.33", ingress("4.14.5"))},
			kube:     kube,
			want: []planRow{
				{"release-1.31", up1.SHA, ActionReplay, ""},
				{"release-1.31", up2.SHA, ActionSkip, `chart ingress-nginx 4.16.0 requires Kubernetes ">=1.33.0-0", which excludes 1.31`},
				{"release-1.33", up1.SHA, ActionSkip, "superseded by ingress-nginx 4.16.0 (bbbbbbbbbbbb)"},
				{"release-1.33", up2.SHA, ActionReplay, ""},
			},
		},
		{
			name:     "carried by a recorded sha (full or abbreviated) or reachability",
			commits:  []Commit{up1, fix},
			branches: []Branch{br("release-1.33", "1.33", ingress("4.14.5"), "aaaaaaaaaaaa", "dddddddddddd4444")},
			kube:     kube,
			want: []planRow{
				{"release-1.33", up1.SHA, ActionCarried, "the branch has this commit"},
				{"release-1.33", fix.SHA, ActionCarried, "the branch has this commit"},
				{"release-1.35", fix.SHA, ActionSkip, `there is no release branch "release-1.35"`},
			},
		},
		{
			name:     "backport requests go to the named branches, all to every branch",
			commits:  []Commit{fix, all, upM},
			branches: []Branch{br("release-1.33", "1.33", ingress("4.14.5")), br("release-1.34", "1.34", ingress("4.14.5"))},
			kube:     kube,
			want: []planRow{
				{"release-1.33", fix.SHA, ActionCherryPick, ""},
				{"release-1.33", all.SHA, ActionCherryPick, ""},
				{"release-1.34", all.SHA, ActionCherryPick, ""},
				{"release-1.34", upM.SHA, ActionReplay, ""},
				{"release-1.35", fix.SHA, ActionSkip, `there is no release branch "release-1.35"`},
			},
		},
		{
			name:     "unknown kubeVersion and an add-on missing on the branch are skipped with the reason",
			commits:  []Commit{up1},
			branches: []Branch{br("release-1.33", "1.33", ingress("4.14.5")), br("release-1.34", "1.34", map[string]string{"metallb": "0.14.0"})},
			kube:     KubeVersions{},
			want: []planRow{
				{"release-1.33", up1.SHA, ActionSkip, "the kubeVersion of chart ingress-nginx 4.15.1 could not be read; run again when its repository answers"},
				{"release-1.34", up1.SHA, ActionSkip, `add-on "ingress-nginx" has no chart on release-1.34`},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var changes []Change
			for _, cm := range c.commits {
				changes = append(changes, mustChange(t, cm))
			}
			got := rows(Plan(changes, c.branches, c.kube))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
