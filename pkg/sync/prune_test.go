package sync

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
)

// TestApplySetID checks the ID against values computed as KEP-3659 and kubectl specify:
// printf '<name>.<namespace>.<kind>.<group>' | openssl dgst -sha256 -binary | base64url, no padding.
func TestApplySetID(t *testing.T) {
	tests := []struct {
		parent ObjectID
		want   string
	}{
		{ObjectID{Kind: "ConfigMap", Namespace: "addonsync-system", Name: "addonsync-cert-manager"}, "applyset-TO_t80A0zwJkzRgd8EPJ2bGj9maHMG0Lg6Bn27DMmEY-v1"},
		{ObjectID{Kind: "Secret", Namespace: "kube-system", Name: "x"}, "applyset-nYsG3fWmQRwFT5rjSsQaT8o5OJ7msS0x9Vgk80QRieA-v1"},
	}
	for _, tt := range tests {
		if got := ApplySetID(tt.parent); got != tt.want {
			t.Errorf("ApplySetID(%v) = %q, want %q", tt.parent, got, tt.want)
		}
	}
}

func obj(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func TestPruneCandidates(t *testing.T) {
	id := func(group, kind, ns, name string) ObjectID {
		return ObjectID{Group: group, Kind: kind, Namespace: ns, Name: name}
	}
	cm, dep := id("", "ConfigMap", "a", "cm"), id("apps", "Deployment", "a", "web")
	nsObj, crd := id("", "Namespace", "", "a"), id("apiextensions.k8s.io", "CustomResourceDefinition", "", "x.example.com")
	pv, pvc := id("", "PersistentVolume", "", "pv"), id("", "PersistentVolumeClaim", "a", "data")
	hook := id("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "", "vwc")
	keep, off := id("", "Secret", "a", "keep"), id("", "Secret", "a", "off")
	inv := &Inventory{Members: []Member{
		{ID: cm},
		{ID: dep},
		{ID: nsObj},
		{ID: crd},
		{ID: pv},
		{ID: pvc},
		{ID: hook},
		{ID: keep, Annotations: map[string]string{"helm.sh/resource-policy": "keep"}},
		{ID: off, Annotations: map[string]string{AnnotationPrune: "disabled"}},
	}}
	rendered := []*unstructured.Unstructured{obj("v1", "ConfigMap", "a", "cm")}
	tests := []struct {
		name       string
		policy     config.PrunePolicy
		wantDelete []ObjectID
		wantKept   []ObjectID
	}{
		{
			name:       "default policy keeps namespaces, CRDs, volumes and annotated objects; webhooks go first",
			wantDelete: []ObjectID{hook, dep},
			wantKept:   []ObjectID{nsObj, crd, pv, pvc, keep, off},
		},
		{
			name:       "opt-ins allow namespaces, CRDs and volumes, deleted last",
			policy:     config.PrunePolicy{AllowNamespaces: true, AllowCRDs: true, AllowPersistentVolumes: true},
			wantDelete: []ObjectID{hook, pv, pvc, dep, nsObj, crd},
			wantKept:   []ObjectID{keep, off},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := PruneCandidates(inv, rendered, tt.policy)
			if diff := cmp.Diff(tt.wantDelete, plan.Delete); diff != "" {
				t.Errorf("delete (-want +got):\n%s", diff)
			}
			var kept []ObjectID
			for _, k := range plan.Keep {
				kept = append(kept, k.ID)
			}
			if diff := cmp.Diff(tt.wantKept, kept); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPruneLimit(t *testing.T) {
	ptr := func(i int) *int { return &i }
	tests := []struct {
		name         string
		repo, addon  config.PruneLimits
		maxPrune     int
		count, total int
		wantLimit    string // "" when allowed
	}{
		{name: "within defaults", count: 3, total: 100},
		{name: "over 25 objects", count: 26, total: 1000, wantLimit: "25 objects"},
		{name: "over 30 percent", count: 4, total: 10, wantLimit: "30 %"},
		{name: "exactly 30 percent", count: 3, total: 10},
		{name: "repo limit", repo: config.PruneLimits{MaxObjects: ptr(2)}, count: 3, total: 100, wantLimit: "2 objects"},
		{name: "add-on overrides repo", repo: config.PruneLimits{MaxObjects: ptr(2)}, addon: config.PruneLimits{MaxObjects: ptr(5)}, count: 3, total: 100},
		{name: "add-on percent", addon: config.PruneLimits{MaxPercent: ptr(100)}, count: 10, total: 10},
		{name: "max-prune replaces both", maxPrune: 10, count: 8, total: 10},
		{name: "max-prune still a limit", maxPrune: 10, count: 11, total: 20, wantLimit: "10 objects"},
		{name: "negative max-prune: no limit", maxPrune: -1, count: 500, total: 500},
		{name: "nothing to prune", count: 0, total: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := effectiveLimit(tt.repo, tt.addon, tt.maxPrune).check("app", tt.count, tt.total)
			var pe *PruneLimitError
			switch {
			case tt.wantLimit == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantLimit != "" && !errors.As(err, &pe):
				t.Fatalf("err = %v, want a PruneLimitError", err)
			case tt.wantLimit != "" && pe.Limit != tt.wantLimit:
				t.Errorf("limit %q, want %q", pe.Limit, tt.wantLimit)
			}
		})
	}
}

func TestChangeSetString(t *testing.T) {
	var cs ChangeSet
	for a, n := range map[Action]int{ActionCreated: 3, ActionConfigured: 1, ActionUnchanged: 40, ActionPruned: 2} {
		for range n {
			cs.Add(ChangeSetEntry{Action: a})
		}
	}
	if got, want := cs.String(), "3 created, 1 configured, 40 unchanged, 2 pruned"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	cs.Add(ChangeSetEntry{Action: ActionFailed})
	if got, want := cs.String(), "3 created, 1 configured, 40 unchanged, 2 pruned, 1 failed"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
