package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/scrape"
)

// syncBuffer is a bytes.Buffer safe for the command's goroutines and the test.
type syncBuffer struct {
	mu  gosync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually polls cond every 100ms until it holds, failing after a generous minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestRunCommand(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	dir, _ := reconcileRepo(t, ns)
	var stdout, stderr syncBuffer
	cmd := NewRootCmd(Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	cmd.SetArgs([]string{
		"run", "--schedule", "@every 1s", "--listen", "127.0.0.1:0", "-C", dir,
		"--cache-dir", t.TempDir(), "--wait=false", "--no-upgrade", "--cluster", "test",
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	var base string
	addr := regexp.MustCompile(`serving /healthz and /metrics on (http://\S+)`)
	eventually(t, "listening", func() bool {
		if m := addr.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})

	t.Run("answers /healthz with 200 once started", func(t *testing.T) {
		if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("/healthz = %d %q", code, body)
		}
	})

	t.Run("counts runs and cluster objects in /metrics", func(t *testing.T) {
		var m scrape.Families
		eventually(t, "two successful runs", func() bool {
			m = scrape.Get(t, base+"/metrics")
			n, _ := m.Value("addonsync_reconcile_runs_total", map[string]string{"result": "success"})
			return n >= 2
		})
		for _, tc := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"addonsync_reconcile_runs_total", map[string]string{"result": "failure"}, 0},
			{"addonsync_cluster_sync_objects", map[string]string{"cluster": "test", "action": "unchanged"}, 3},
			{"addonsync_cluster_sync_objects", map[string]string{"cluster": "test", "action": "created"}, 0},
			{"addonsync_cluster_sync_success", map[string]string{"cluster": "test"}, 1},
		} {
			if got, ok := m.Value(tc.name, tc.labels); !ok || got != tc.want {
				t.Errorf("/metrics %s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
			}
		}
		if m.Type("addonsync_reconcile_duration_seconds") != "HISTOGRAM" {
			t.Errorf("addonsync_reconcile_duration_seconds is %q, want a histogram", m.Type("addonsync_reconcile_duration_seconds"))
		}
		if ts, _ := m.Value("addonsync_reconcile_last_success_timestamp_seconds", map[string]string{}); ts == 0 {
			t.Error("no last success timestamp")
		}
		if !strings.Contains(stdout.String(), "1 clusters: 1 synced, 0 failed, 0 locked\n") {
			t.Errorf("no run summary on stdout:\n%s", stdout.String())
		}
	})

	t.Run("stops when the context is cancelled", func(t *testing.T) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v, want nil", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("run did not stop within a minute of cancellation")
		}
		if _, err := http.Get(base + "/healthz"); err == nil { //nolint:noctx,bodyclose // test
			t.Error("still serving after stop")
		}
	})
}

func TestRunFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--schedule", "every day"}, `--schedule: schedule "every day": `},
		{[]string{"--schedule", "@every 1m", "--unhealthy-after", "-1"}, "--unhealthy-after -1: must be 0 (never) or more"},
		{nil, "--schedule: required"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runConfigCmd(t, append([]string{"run", "-C", dir, "--no-upgrade"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}
