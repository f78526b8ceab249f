package sync

import (
	"cmp"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/render"
)

// Helm hook delete policies (helm.sh/hook-delete-policy).
const (
	// HookDeleteBeforeCreation deletes the previous hook object before creating it again;
	// Helm's default when a hook names no policy.
	HookDeleteBeforeCreation = "before-hook-creation"
	// HookDeleteSucceeded deletes the hook object once it succeeded.
	HookDeleteSucceeded = "hook-succeeded"
	// HookDeleteFailed deletes the hook object when it failed.
	HookDeleteFailed = "hook-failed"
)

// hooksFor returns the hooks that run on event, lowest weight first, then by kind and name
// (namespace breaking the last ties), as Helm orders them.
func hooksFor(hooks []render.Hook, event render.HookEvent) []render.Hook {
	var out []render.Hook
	for _, h := range hooks {
		if slices.Contains(h.Events, event) {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b render.Hook) int {
		return cmp.Or(
			cmp.Compare(a.Weight, b.Weight),
			cmp.Compare(a.Object.GetKind(), b.Object.GetKind()),
			cmp.Compare(a.Object.GetName(), b.Object.GetName()),
			cmp.Compare(a.Object.GetNamespace(), b.Object.GetNamespace()),
		)
	})
	return out
}

// hookHasPolicy reports whether the hook has the delete policy; a hook with none has
// before-hook-creation, as in Helm.
func hookHasPolicy(h render.Hook, policy string) bool {
	if len(h.DeletePolicies) == 0 {
		return policy == HookDeleteBeforeCreation
	}
	return slices.Contains(h.DeletePolicies, policy)
}

// hookState is how far a hook object has got.
type hookState string

const (
	hookRunning   hookState = "running"
	hookSucceeded hookState = "succeeded"
	hookFailed    hookState = "failed"
)

// String returns the state's name.
func (s hookState) String() string { return string(s) }

// hookStatus tells from a live hook object whether it finished: a Job succeeded when
// status.succeeded ≥ 1 or its Complete condition is True and failed when its Failed
// condition is True (the message then carries the Job's reason and message); a Pod by its
// phase. Objects of other kinds are done once they exist, as in Helm.
func hookStatus(u *unstructured.Unstructured) (hookState, string) {
	switch u.GroupVersionKind().GroupKind().String() {
	case "Job.batch":
		if c, ok := findCondition(u, "Failed"); ok && c["status"] == "True" {
			return hookFailed, conditionText(c, "job failed")
		}
		if n, _, _ := unstructured.NestedInt64(u.Object, "status", "succeeded"); n >= 1 {
			return hookSucceeded, ""
		}
		if c, ok := findCondition(u, "Complete"); ok && c["status"] == "True" {
			return hookSucceeded, ""
		}
		return hookRunning, "job has not completed yet"
	case "Pod":
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		switch phase {
		case "Succeeded":
			return hookSucceeded, ""
		case "Failed":
			msg, _, _ := unstructured.NestedString(u.Object, "status", "message")
			reason, _, _ := unstructured.NestedString(u.Object, "status", "reason")
			return hookFailed, joinReason(reason, msg, "pod failed")
		}
		return hookRunning, fmt.Sprintf("pod is %s", cmp.Or(phase, "Pending"))
	}
	return hookSucceeded, ""
}

// findCondition returns the status condition of the given type.
func findCondition(u *unstructured.Unstructured, typ string) (map[string]any, bool) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m, true
		}
	}
	return nil, false
}

// conditionText is "reason: message" of a condition, or fallback when it has neither.
func conditionText(c map[string]any, fallback string) string {
	reason, _ := c["reason"].(string)
	msg, _ := c["message"].(string)
	return joinReason(reason, msg, fallback)
}

func joinReason(reason, msg, fallback string) string {
	switch {
	case reason != "" && msg != "":
		return reason + ": " + msg
	case reason != "" || msg != "":
		return reason + msg
	}
	return fallback
}
