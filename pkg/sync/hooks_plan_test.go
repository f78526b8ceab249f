package sync

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/render"
)

func hookObject(kind, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	if kind == "Job" {
		u.SetAPIVersion("batch/v1")
	}
	u.SetKind(kind)
	u.SetNamespace("ns")
	u.SetName(name)
	return u
}

func TestHooksFor(t *testing.T) {
	hooks := []render.Hook{
		{Object: hookObject("Job", "migrate"), Events: []render.HookEvent{render.HookPreUpgrade}, Weight: 5},
		{Object: hookObject("Job", "zz-first"), Events: []render.HookEvent{render.HookPreInstall, render.HookPreUpgrade}, Weight: -5},
		{Object: hookObject("ServiceAccount", "hook-sa"), Events: []render.HookEvent{render.HookPreInstall, render.HookPreUpgrade}, Weight: 0},
		{Object: hookObject("ConfigMap", "hook-cm"), Events: []render.HookEvent{render.HookPreInstall, render.HookPreUpgrade}, Weight: 0},
		{Object: hookObject("Job", "notify"), Events: []render.HookEvent{render.HookPostInstall}, Weight: 0},
	}
	names := func(hs []render.Hook) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Object.GetKind()+"/"+h.Object.GetName())
		}
		return out
	}
	for _, tc := range []struct {
		event render.HookEvent
		want  []string
	}{
		{render.HookPreInstall, []string{"Job/zz-first", "ConfigMap/hook-cm", "ServiceAccount/hook-sa"}},
		{render.HookPreUpgrade, []string{"Job/zz-first", "ConfigMap/hook-cm", "ServiceAccount/hook-sa", "Job/migrate"}},
		{render.HookPostInstall, []string{"Job/notify"}},
		{render.HookPostUpgrade, nil},
	} {
		t.Run("orders "+tc.event.String()+" hooks by weight, kind and name", func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(hooksFor(hooks, tc.event))); diff != "" {
				t.Errorf("hooksFor(%s) (-want +got):\n%s", tc.event, diff)
			}
		})
	}
}

func TestHookHasPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policies []string
		policy   string
		want     bool
	}{
		{"no policy means before-hook-creation", nil, HookDeleteBeforeCreation, true},
		{"no policy keeps a succeeded hook", nil, HookDeleteSucceeded, false},
		{"explicit hook-succeeded", []string{HookDeleteSucceeded}, HookDeleteSucceeded, true},
		{"explicit policies replace the default", []string{HookDeleteSucceeded}, HookDeleteBeforeCreation, false},
		{"several policies", []string{HookDeleteFailed, HookDeleteBeforeCreation}, HookDeleteFailed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := render.Hook{Object: hookObject("Job", "j"), DeletePolicies: tc.policies}
			if got := hookHasPolicy(h, tc.policy); got != tc.want {
				t.Errorf("hookHasPolicy(%v, %s) = %v, want %v", tc.policies, tc.policy, got, tc.want)
			}
		})
	}
}

func TestHookStatus(t *testing.T) {
	job := func(status map[string]any) *unstructured.Unstructured {
		u := hookObject("Job", "j")
		if status != nil {
			u.Object["status"] = status
		}
		return u
	}
	cond := func(typ, reason, msg string) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg}
	}
	for _, tc := range []struct {
		name      string
		obj       *unstructured.Unstructured
		wantState hookState
		wantMsg   string
	}{
		{"job without status runs", job(nil), hookRunning, "job has not completed yet"},
		{"job with a succeeded pod succeeded", job(map[string]any{"succeeded": int64(1)}), hookSucceeded, ""},
		{"job with Complete condition succeeded", job(map[string]any{"conditions": []any{cond("Complete", "", "")}}), hookSucceeded, ""},
		{"job with Failed condition failed with its reason", job(map[string]any{"failed": int64(3), "conditions": []any{cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")}}), hookFailed, "BackoffLimitExceeded: Job has reached the specified backoff limit"},
		{"job with a False Failed condition runs", job(map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "False"}}}), hookRunning, "job has not completed yet"},
		{"pod succeeded", func() *unstructured.Unstructured {
			u := hookObject("Pod", "p")
			u.Object["status"] = map[string]any{"phase": "Succeeded"}
			return u
		}(), hookSucceeded, ""},
		{"pod failed", func() *unstructured.Unstructured {
			u := hookObject("Pod", "p")
			u.Object["status"] = map[string]any{"phase": "Failed", "message": "exit code 1"}
			return u
		}(), hookFailed, "exit code 1"},
		{"config map is done once it exists", hookObject("ConfigMap", "c"), hookSucceeded, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, msg := hookStatus(tc.obj)
			if state != tc.wantState || msg != tc.wantMsg {
				t.Errorf("hookStatus = %s, %q; want %s, %q", state, msg, tc.wantState, tc.wantMsg)
			}
		})
	}
}
