package sync

import (
	"context"
	"errors"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

var jobsGVR = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}

// hookJob is a hook Job; jobController fails the Job when its name starts with "fail-".
func hookJob(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"backoffLimit": int64(0),
			"template": map[string]any{"spec": map[string]any{
				"restartPolicy": "Never",
				"containers":    []any{map[string]any{"name": "hook", "image": "registry.example.org/hook:1"}},
			}},
		},
	}}
}

func hookConfigMap(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     map[string]any{"hook": name},
	}}
}

func hook(obj *unstructured.Unstructured, weight int, policies []string, events ...render.HookEvent) render.Hook {
	return render.Hook{Object: obj, Events: events, Weight: weight, DeletePolicies: policies}
}

// jobController plays the Job controller in a namespace: every new Job is finished a moment
// after it appears, Complete, or Failed when its name starts with "fail-". It records the
// order it saw the Jobs in.
type jobController struct {
	mu   gosync.Mutex
	seen []string
	uids map[types.UID]bool
	// failOnce fails the next run of the named Jobs, once each.
	failOnce map[string]bool
}

func runJobController(ctx context.Context, t *testing.T, ns string) *jobController {
	jc := &jobController{uids: map[types.UID]bool{}, failOnce: map[string]bool{}}
	ri := dyn(t).Resource(jobsGVR).Namespace(ns)
	go func() {
		for ctx.Err() == nil {
			list, err := ri.List(ctx, metav1.ListOptions{})
			if err == nil {
				for i := range list.Items {
					jc.finish(ctx, t, ri, &list.Items[i])
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return jc
}

func (jc *jobController) finish(ctx context.Context, t *testing.T, ri interface {
	UpdateStatus(context.Context, *unstructured.Unstructured, metav1.UpdateOptions) (*unstructured.Unstructured, error)
}, job *unstructured.Unstructured,
) {
	jc.mu.Lock()
	done := jc.uids[job.GetUID()]
	jc.uids[job.GetUID()] = true
	fail := strings.HasPrefix(job.GetName(), "fail-") || (!done && jc.failOnce[job.GetName()])
	if !done {
		jc.seen = append(jc.seen, job.GetName())
		delete(jc.failOnce, job.GetName())
	}
	jc.mu.Unlock()
	if done {
		return
	}
	now := metav1.Now().UTC().Format(time.RFC3339)
	cond := func(typ, reason, msg string) map[string]any {
		return map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg, "lastTransitionTime": now, "lastProbeTime": now}
	}
	if fail {
		msg := "Job has reached the specified backoff limit"
		job.Object["status"] = map[string]any{"startTime": now, "failed": int64(1), "conditions": []any{
			cond("FailureTarget", "BackoffLimitExceeded", msg), cond("Failed", "BackoffLimitExceeded", msg),
		}}
	} else {
		job.Object["status"] = map[string]any{"startTime": now, "completionTime": now, "succeeded": int64(1), "conditions": []any{
			cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
			cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods"),
		}}
	}
	if _, err := ri.UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
		t.Errorf("job controller: %s: %v", job.GetName(), err)
	}
}

// failNext makes the next run of the named Job fail.
func (jc *jobController) failNext(name string) {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	jc.failOnce[name] = true
}

func (jc *jobController) order() []string {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	return append([]string(nil), jc.seen...)
}

// hookTimeline lists, from progress events, hook steps ("created Job/x", "deleted Job/x")
// and the add-on's object applies ("applied") in the order they happened.
func hookTimeline(evs []Event) []string {
	var out []string
	for _, e := range evs {
		switch {
		case e.Type == EventHook && e.Entry != nil && e.Entry.Action == ActionCreated:
			out = append(out, "created "+e.Entry.ID.Kind+"/"+e.Entry.ID.Name)
		case e.Type == EventHook && e.Entry != nil && e.Entry.Action == ActionDeleted:
			out = append(out, "deleted "+e.Entry.ID.Kind+"/"+e.Entry.ID.Name+" ("+e.Entry.Message+")")
		case e.Type == EventObject && (len(out) == 0 || out[len(out)-1] != "applied"):
			out = append(out, "applied")
		}
	}
	return out
}

func TestSyncRunsHooks(t *testing.T) {
	testenv.Require(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	m := newTestManager(t, ns, nil)
	jc := runJobController(ctx, t, ns)
	a := addon("app", ns, fixture(t, "configmaps", map[string]string{"NS": ns}))
	a.Spec.Sync.Timeout = "30s"
	both := []render.HookEvent{render.HookPreInstall, render.HookPreUpgrade}
	a.Hooks = []render.Hook{
		hook(hookJob(ns, "migrate"), 5, nil, both...),
		hook(hookJob(ns, "setup"), -1, []string{HookDeleteSucceeded}, both...),
		hook(hookConfigMap(ns, "install-marker"), 0, []string{HookDeleteBeforeCreation}, render.HookPreInstall),
		hook(hookConfigMap(ns, "upgrade-marker"), 0, []string{HookDeleteBeforeCreation}, render.HookPreUpgrade),
		hook(hookJob(ns, "notify"), 0, []string{HookDeleteBeforeCreation, HookDeleteSucceeded}, render.HookPostInstall, render.HookPostUpgrade),
	}
	c := &render.Cluster{Name: "test", Addons: []render.Addon{a}}
	sync := func(t *testing.T) []Event {
		t.Helper()
		var ev events
		o := syncOpts()
		o.Progress = ev.add
		if _, err := m.Sync(ctx, c, o); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		return ev.all
	}
	jobs := dyn(t).Resource(jobsGVR).Namespace(ns)
	exists := func(name string) (types.UID, bool) {
		u, err := jobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", false
		}
		return u.GetUID(), true
	}

	var migrateUID types.UID
	t.Run("runs pre-install hooks by weight before the objects, post-install after", func(t *testing.T) {
		want := []string{
			"created Job/setup", "created ConfigMap/install-marker", "created Job/migrate",
			"deleted Job/setup (hook-succeeded)",
			"applied",
			"created Job/notify",
			"deleted Job/notify (hook-succeeded)",
		}
		if diff := cmp.Diff(want, hookTimeline(sync(t))); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"setup", "migrate", "notify"}, jc.order()); diff != "" {
			t.Errorf("jobs run (-want +got):\n%s", diff)
		}
		if _, ok := exists("setup"); ok {
			t.Errorf("Job setup (hook-succeeded) still exists")
		}
		var ok bool
		if migrateUID, ok = exists("migrate"); !ok {
			t.Errorf("Job migrate (before-hook-creation) was deleted after it succeeded")
		}
	})

	t.Run("hooks are not inventory members", func(t *testing.T) {
		for _, s := range members(t, m, "app") {
			if strings.HasPrefix(s, "Job/") || strings.Contains(s, "-marker") {
				t.Errorf("hook %s is an inventory member", s)
			}
		}
	})

	t.Run("an unchanged add-on runs no hook", func(t *testing.T) {
		if got := slices.DeleteFunc(hookTimeline(sync(t)), func(s string) bool { return s == "applied" }); len(got) != 0 {
			t.Errorf("hook timeline %v, want nothing", got)
		}
	})

	t.Run("runs pre-upgrade hooks when the render changed, recreating before-hook-creation hooks", func(t *testing.T) {
		c.Addons[0].Objects[0].Object["data"] = map[string]any{"key": "changed"}
		want := []string{
			"created Job/setup", "created ConfigMap/upgrade-marker",
			"deleted Job/migrate (before-hook-creation)", "created Job/migrate",
			"deleted Job/setup (hook-succeeded)",
			"applied",
			"created Job/notify",
			"deleted Job/notify (hook-succeeded)",
		}
		if diff := cmp.Diff(want, hookTimeline(sync(t))); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		if uid, ok := exists("migrate"); !ok || uid == migrateUID {
			t.Errorf("Job migrate uid = %q (exists %v), want a new Job (old uid %q)", uid, ok, migrateUID)
		}
	})
	cancel()
}

func TestFailingHookStopsItsAddonAndDependants(t *testing.T) {
	testenv.Require(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	m := newTestManager(t, ns, nil)
	runJobController(ctx, t, ns)
	cm := func(name string) []*unstructured.Unstructured {
		return []*unstructured.Unstructured{hookConfigMap(ns, name)}
	}
	db := addon("db", ns, cm("db-config"))
	db.Hooks = []render.Hook{hook(hookJob(ns, "fail-migrate"), 0, []string{HookDeleteFailed}, render.HookPreInstall)}
	api := addon("api", ns, cm("api-config"), "db")
	web := addon("web", ns, cm("web-config"), "api")
	other := addon("other", ns, cm("other-config"))
	c := &render.Cluster{Name: "test", Addons: []render.Addon{db, api, web, other}}

	res, err := m.Sync(ctx, c, syncOpts())
	var hf *HookFailedError
	if !errors.As(err, &hf) {
		t.Fatalf("Sync error = %v, want a HookFailedError", err)
	}
	t.Run("names the hook, the phase and the Job's reason", func(t *testing.T) {
		want := HookFailedError{Subject: "Job/" + ns + "/fail-migrate", Event: render.HookPreInstall, Reason: "BackoffLimitExceeded: Job has reached the specified backoff limit"}
		if diff := cmp.Diff(want, *hf); diff != "" {
			t.Errorf("HookFailedError (-want +got):\n%s", diff)
		}
		if !strings.Contains(res.Addons[0].Err.Error(), `add-on "db": Job/`+ns+`/fail-migrate: pre-install hook failed: BackoffLimitExceeded`) {
			t.Errorf("db error = %v", res.Addons[0].Err)
		}
	})
	t.Run("stops the add-on and those depending on it, transitively", func(t *testing.T) {
		for i, dep := range map[int]string{1: "db", 2: "api"} {
			if e := res.Addons[i].Err; e == nil || !strings.Contains(e.Error(), `dependency "`+dep+`" failed`) {
				t.Errorf("%s error = %v, want skipped because %s failed", res.Addons[i].Addon, e, dep)
			}
		}
		for _, name := range []string{"db-config", "api-config", "web-config"} {
			if get(t, m, hookConfigMap(ns, name)) != nil {
				t.Errorf("ConfigMap %s applied although its add-on was stopped", name)
			}
		}
	})
	t.Run("the other add-ons go on", func(t *testing.T) {
		if res.Addons[3].Err != nil {
			t.Errorf("other error = %v", res.Addons[3].Err)
		}
		if get(t, m, hookConfigMap(ns, "other-config")) == nil {
			t.Errorf("ConfigMap other-config not applied")
		}
	})
	t.Run("deletes the failed hook (hook-failed)", func(t *testing.T) {
		if _, err := dyn(t).Resource(jobsGVR).Namespace(ns).Get(ctx, "fail-migrate", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Job fail-migrate: get error = %v, want NotFound", err)
		}
	})
}
