package reconcile

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// eventually polls cond until it holds, failing after a generous minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLoopRejectsBadSchedule(t *testing.T) {
	_, err := NewLoop(LoopOptions{Schedule: "61 * * * *", Run: func(context.Context) *Report { return &Report{} }})
	if err == nil || !strings.HasPrefix(err.Error(), `schedule "61 * * * *": `) {
		t.Errorf("err = %v", err)
	}
}

func TestLoopSkipsWhileARunIsGoing(t *testing.T) {
	release := make(chan struct{})
	var runs, concurrent, maxConcurrent atomic.Int32
	loop, err := NewLoop(LoopOptions{
		Schedule: "@every 1s", RunOnStart: true,
		Run: func(ctx context.Context) *Report {
			n := concurrent.Add(1)
			defer concurrent.Add(-1)
			if n > maxConcurrent.Load() {
				maxConcurrent.Store(n)
			}
			if runs.Add(1) == 1 {
				select { // the first run outlasts several scheduled times
				case <-release:
				case <-ctx.Done():
				}
			}
			return &Report{Start: time.Now()}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	eventually(t, "first run started", func() bool { return runs.Load() == 1 })
	time.Sleep(2500 * time.Millisecond) // at least two scheduled times pass during the first run
	close(release)
	eventually(t, "a run after the skipped ones", func() bool { return runs.Load() >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := loop.Metrics().Runs(ResultSkipped); got < 2 {
		t.Errorf("skipped %d runs, want at least 2", got)
	}
	if got := maxConcurrent.Load(); got != 1 {
		t.Errorf("%d runs at once", got)
	}
}

func TestLoopHealthAndStop(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var runs atomic.Int32
	running := make(chan struct{}, 100)
	loop, err := NewLoop(LoopOptions{
		Schedule: "@every 1s", RunOnStart: true, UnhealthyAfter: 2,
		Run: func(ctx context.Context) *Report {
			runs.Add(1)
			running <- struct{}{}
			if fail.Load() {
				return &Report{Start: time.Now(), Err: errors.New("boom")}
			}
			return &Report{Start: time.Now()}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(loop.Handler())
	defer srv.Close()
	health := func() int {
		resp, err := http.Get(srv.URL + "/healthz") //nolint:noctx // test
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := health(); got != http.StatusServiceUnavailable {
		t.Errorf("/healthz before start = %d, want 503", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()

	t.Run("unhealthy after two failed runs in a row", func(t *testing.T) {
		eventually(t, "503", func() bool { return health() == http.StatusServiceUnavailable && runs.Load() >= 2 })
		if ok, why := loop.Healthy(); ok || !strings.Contains(why, "reconcile runs failed") {
			t.Errorf("Healthy() = %v, %q", ok, why)
		}
	})
	t.Run("healthy again after a successful run", func(t *testing.T) {
		fail.Store(false)
		eventually(t, "200", func() bool { return health() == http.StatusOK })
	})
	t.Run("stops on cancel and reports unhealthy", func(t *testing.T) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatal("loop did not stop")
		}
		if got := health(); got != http.StatusServiceUnavailable {
			t.Errorf("/healthz after stop = %d, want 503", got)
		}
	})
}

func TestLoopCancelsTheCurrentRun(t *testing.T) {
	started := make(chan struct{})
	loop, err := NewLoop(LoopOptions{
		Schedule: "@every 1h", RunOnStart: true,
		Run: func(ctx context.Context) *Report {
			close(started)
			<-ctx.Done()
			return &Report{Start: time.Now(), Err: ctx.Err()}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	<-started
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("loop did not return after cancelling the run")
	}
	if got := loop.Metrics().Runs(ResultFailure); got != 1 {
		t.Errorf("failed runs %d, want 1 (the cancelled one)", got)
	}
}
