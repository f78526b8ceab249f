package sync

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/release"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/helmrelease"
	"github.com/addonsync/addonsync/pkg/render"
)

// TestDecideHelmAdoption is the planner's table for an add-on whose Helm release addonsync
// takes over: the adoption comes from helmrelease.PlanAdoption in the gather step.
func TestDecideHelmAdoption(t *testing.T) {
	cm := pobj("ConfigMap", "ns", "cm", "h1")
	helmLive := cm.DeepCopy() // made by helm install: not a member, no applied hash
	helmLive.SetAnnotations(nil)
	adoptedCM := ObjectState{Desired: cm, Live: helmLive, Owner: `Helm release "web"`}
	rel := &helmrelease.Release{Name: "web", Namespace: "ns", Revision: 7, Status: release.StatusDeployed, Chart: "web", ChartVersion: "1.2.3"}
	leftover := helmrelease.ObjectID{Kind: "ConfigMap", Namespace: "ns", Name: "web-extra"}
	adoption := func(upgradeHooks bool, leftovers ...helmrelease.Leftover) *helmrelease.Adoption {
		return &helmrelease.Adoption{
			Release: rel, Installed: true, UpgradeHooks: upgradeHooks,
			Plan: helmrelease.Plan{Adopted: []helmrelease.ObjectID{{Kind: "ConfigMap", Namespace: "ns", Name: "cm"}}, Leftovers: leftovers},
		}
	}
	firstSync := func(h *helmrelease.Adoption) stateOpt {
		return func(s *AddonState) {
			s.Helm, s.Record, s.Inventory = h, nil, &Inventory{Addon: s.Addon.Name}
			s.Addon.Hooks = []render.Hook{{Object: hookObject("Job", "migrate"), Events: []render.HookEvent{render.HookPreInstall, render.HookPreUpgrade}}}
		}
	}
	prune, reason := helmrelease.PruneLeftover(leftover, false, config.PrunePolicy{}, false)
	kept := helmrelease.Leftover{ID: leftover, Prune: prune, Reason: reason}
	reasonKept := "left by Helm release web, kept: pass --prune-helm-leftovers to delete it"
	pruned := helmrelease.Leftover{ID: leftover, Prune: true, Reason: helmrelease.ReasonLeftoverPruned}
	for _, tt := range []struct {
		name          string
		state         AddonState
		others        []AddonState
		wantVerbs     map[string]Verb
		wantReason    string
		wantLeftovers map[string]Verb
		wantHooks     HookPhase
		wantRecord    ReleaseRecord
		wantChanges   bool
		wantErr       string
	}{
		{
			name:      "a release's object the render has is adopted; the installed release runs no install hooks",
			state:     pstate("web", []ObjectState{adoptedCM}, firstSync(adoption(false))),
			wantVerbs: map[string]Verb{"ConfigMap/ns/cm": VerbAdopt}, wantReason: "adopted from Helm release web",
			wantHooks: HookPhaseNone, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate"}, wantChanges: true,
		},
		{
			name:      "a render that differs from the release's manifest runs the upgrade hooks",
			state:     pstate("web", []ObjectState{adoptedCM}, firstSync(adoption(true))),
			wantVerbs: map[string]Verb{"ConfigMap/ns/cm": VerbAdopt},
			wantHooks: HookPhaseUpgrade, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate", LastHook: "upgrade hooks succeeded"}, wantChanges: true,
		},
		{
			name:          "a leftover is kept without --prune-helm-leftovers, named with its release",
			state:         pstate("web", []ObjectState{adoptedCM}, firstSync(adoption(false, kept))),
			wantVerbs:     map[string]Verb{"ConfigMap/ns/cm": VerbAdopt},
			wantLeftovers: map[string]Verb{"ConfigMap/ns/web-extra": VerbKeep}, wantReason: "adopted from Helm release web",
			wantHooks: HookPhaseNone, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate"}, wantChanges: true,
		},
		{
			name:          "a leftover PruneLeftover prunes is pruned",
			state:         pstate("web", []ObjectState{adoptedCM}, firstSync(adoption(false, pruned))),
			wantVerbs:     map[string]Verb{"ConfigMap/ns/cm": VerbAdopt},
			wantLeftovers: map[string]Verb{"ConfigMap/ns/web-extra": VerbPrune},
			wantHooks:     HookPhaseNone, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate"}, wantChanges: true,
		},
		{
			name:      "a leftover another add-on renders is adopted there, not listed",
			state:     pstate("web", []ObjectState{adoptedCM}, firstSync(adoption(false, pruned))),
			others:    []AddonState{pstate("other", []ObjectState{{Desired: pobj("ConfigMap", "ns", "web-extra", "h1")}})},
			wantVerbs: map[string]Verb{"ConfigMap/ns/cm": VerbAdopt},
			wantHooks: HookPhaseNone, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate"}, wantChanges: true,
		},
		{
			name: "once installed by addonsync, a kept leftover's release writes nothing",
			state: pstate("web", []ObjectState{withDesired(cm, member(applied(cm)))}, func(s *AddonState) {
				s.Helm, s.Record = adoption(true, kept), &ReleaseRecord{Revision: 1, Digest: "d1", Installed: true}
			}),
			wantVerbs:     map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged},
			wantLeftovers: map[string]Verb{"ConfigMap/ns/web-extra": VerbKeep},
			wantHooks:     HookPhaseNone, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true},
		},
		{
			name: "a release uninstalled with --keep-history is not installed: install hooks run",
			state: pstate("web", []ObjectState{{Desired: cm}}, firstSync(&helmrelease.Adoption{
				Release: &helmrelease.Release{Name: "web", Namespace: "ns", Revision: 2, Status: release.StatusUninstalled},
			})),
			wantVerbs: map[string]Verb{"ConfigMap/ns/cm": VerbCreate},
			wantHooks: HookPhaseInstall, wantRecord: ReleaseRecord{Revision: 1, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate", LastHook: "install hooks succeeded"}, wantChanges: true,
		},
		{
			name: "an immutable change of an object to adopt is an error, even where recreate is allowed",
			state: pstate("web", []ObjectState{{Desired: cm, Live: helmLive, DryRunErr: &ImmutableFieldError{Subject: "ConfigMap/ns/cm", Fields: []string{"spec.selector"}}}},
				firstSync(adoption(false)), func(s *AddonState) { s.Addon.Spec.Sync.Recreate = true }),
			wantErr: "cannot adopt from Helm release web rev 7, chart 1.2.3 in place",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := PlanInput{Cluster: "c", Addons: append([]AddonState{tt.state}, tt.others...), Options: planOpts()}
			ap := Decide(in).Addons[0]
			if !checkAddonPlan(t, ap, tt.wantErr, tt.wantVerbs, tt.wantReason) {
				return
			}
			got := map[string]Verb{}
			for _, s := range ap.HelmLeftovers {
				got[s.ID.String()] = s.Verb
				if s.Verb == VerbKeep && s.Reason != reasonKept {
					t.Errorf("%s: reason %q, want %q", s.ID, s.Reason, reasonKept)
				}
			}
			if len(tt.wantLeftovers) == 0 {
				tt.wantLeftovers = map[string]Verb{}
			}
			if diff := cmp.Diff(tt.wantLeftovers, got); diff != "" {
				t.Errorf("leftovers (-want +got):\n%s", diff)
			}
			if ap.Hooks != tt.wantHooks {
				t.Errorf("hooks = %s, want %s", ap.Hooks, tt.wantHooks)
			}
			if diff := cmp.Diff(tt.wantRecord, ap.Record); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if ap.Changes() != tt.wantChanges {
				t.Errorf("Changes() = %v, want %v", ap.Changes(), tt.wantChanges)
			}
		})
	}
}
