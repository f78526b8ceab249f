package sync

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// rollOut plays the Deployment controller: once the Deployment exists and after delay, it
// writes a rolled-out status through the status subresource and returns when it did.
func rollOut(ctx context.Context, t *testing.T, m *Manager, dep *unstructured.Unstructured, delay time.Duration) (time.Time, error) {
	ri, err := m.resourceFor(dep)
	if err != nil {
		return time.Time{}, err
	}
	for {
		live, err := ri.Get(ctx, dep.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			select {
			case <-ctx.Done():
				return time.Time{}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
				continue
			}
		}
		if err != nil {
			return time.Time{}, err
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(delay):
		}
		live.Object["status"] = map[string]any{
			"observedGeneration": live.GetGeneration(),
			"replicas":           int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1), "availableReplicas": int64(1),
			"conditions": []any{
				map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
				map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
			},
		}
		if _, err := ri.UpdateStatus(ctx, live, metav1.UpdateOptions{}); err != nil {
			return time.Time{}, err
		}
		return time.Now(), nil
	}
}

// events collects progress events.
type events struct {
	mu  gosync.Mutex
	all []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) messages(typ EventType) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.Type == typ {
			out = append(out, ev.Message)
		}
	}
	return out
}

func TestSyncWaitsForHealth(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()

	t.Run("waits until the Deployment is rolled out", func(t *testing.T) {
		ns := env.Namespace(t)
		m := newTestManager(t, ns, nil)
		objs := fixture(t, "wait/web", map[string]string{"NS": ns})
		a := addon("web", ns, objs)
		a.Spec.Sync.Timeout = "30s"
		var ev events
		o := DefaultSyncOptions()
		o.Progress = ev.add

		type rolled struct {
			at  time.Time
			err error
		}
		done := make(chan rolled, 1)
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			at, err := rollOut(rctx, t, m, find(t, objs, "Deployment/"+ns+"/web"), 500*time.Millisecond)
			done <- rolled{at, err}
		}()
		if _, err := m.Sync(ctx, &render.Cluster{Name: "test", Addons: []render.Addon{a}}, o); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		returned := time.Now()
		r := <-done
		if r.err != nil {
			t.Fatalf("playing the Deployment controller: %v", r.err)
		}
		if returned.Before(r.at) {
			t.Errorf("Sync returned at %s, before the Deployment rolled out at %s", returned.Format(time.StampMilli), r.at.Format(time.StampMilli))
		}
		waiting := ev.messages(EventWaiting)
		if len(waiting) == 0 || !strings.Contains(waiting[0], "Deployment/"+ns+"/web: InProgress: ") {
			t.Errorf("waiting events = %q; want one naming the Deployment, its status and why", waiting)
		}
		for _, w := range waiting {
			if strings.Contains(w, "ConfigMap/") {
				t.Errorf("waiting event names a ConfigMap, which is ready once it exists: %q", w)
			}
		}
	})

	t.Run("times out with every object not ready, and skips the dependants", func(t *testing.T) {
		ns := env.Namespace(t)
		m := newTestManager(t, ns, nil)
		objs := fixture(t, "wait/web", map[string]string{"NS": ns})
		a := addon("web", ns, objs)
		a.Spec.Sync.Timeout = "1s"
		dependant := addon("frontend", ns, fixture(t, "configmaps", map[string]string{"NS": ns}), "web")
		o := DefaultSyncOptions()
		res, err := m.Sync(ctx, &render.Cluster{Name: "test", Addons: []render.Addon{a, dependant}}, o)
		var nh *NotHealthyError
		if !errors.As(err, &nh) {
			t.Fatalf("Sync error = %v, want a NotHealthyError", err)
		}
		if nh.Addon != "web" || nh.Timeout != time.Second || len(nh.Objects) != 1 {
			t.Fatalf("NotHealthyError = %+v, want add-on web, 1s, one object", nh)
		}
		got := nh.Objects[0]
		if got.ID.String() != "Deployment/"+ns+"/web" || got.Status != status.InProgressStatus || got.Message == "" {
			t.Errorf("not-ready object = %+v, want the Deployment InProgress with kstatus' message", got)
		}
		msg := err.Error()
		if strings.Count(msg, `add-on "web"`) != 1 {
			t.Errorf("error names the add-on more than once: %q", msg)
		}
		t.Logf("timeout error: %v", err)
		for _, want := range []string{`add-on "web": not healthy after 1s, 1 object(s) not ready:`, "Deployment/" + ns + "/web: InProgress: ", "--wait=false"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		if res.Addons[1].Err == nil || !strings.Contains(res.Addons[1].Err.Error(), `dependency "web" failed`) {
			t.Errorf("frontend error = %v, want skipped because web failed", res.Addons[1].Err)
		}
	})

	t.Run("does not wait when told not to", func(t *testing.T) {
		ns := env.Namespace(t)
		m := newTestManager(t, ns, nil)
		a := addon("web", ns, fixture(t, "wait/web", map[string]string{"NS": ns}))
		a.Spec.Sync.Timeout = "1s"
		o := DefaultSyncOptions()
		o.Wait = false
		if _, err := m.Sync(ctx, &render.Cluster{Name: "test", Addons: []render.Addon{a}}, o); err != nil {
			t.Errorf("Sync with Wait=false: %v", err)
		}
	})
}

func TestWaitTimeout(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{{"", DefaultWaitTimeout, false}, {"90s", 90 * time.Second, false}, {"soon", 0, true}, {"-1m", 0, true}} {
		a := &render.Addon{}
		a.Spec.Sync.Timeout = tc.in
		got, err := waitTimeout(a)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("waitTimeout(%q) = %s, %v; want %s, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
