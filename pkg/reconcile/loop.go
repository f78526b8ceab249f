package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
)

// RunFunc runs one reconcile and reports it; it should return soon after ctx is cancelled.
type RunFunc func(ctx context.Context) *Report

// LoopOptions configure a Loop.
type LoopOptions struct {
	// Schedule is a cron expression (five fields, @hourly, @every 10m, CRON_TZ=... prefix).
	Schedule string
	// Run is the reconcile run at every scheduled time.
	Run RunFunc
	// RunOnStart runs once at start instead of waiting for the first scheduled time.
	RunOnStart bool
	// UnhealthyAfter makes /healthz answer 503 once this many runs in a row failed (default
	// 3; negative: failures never make it unhealthy).
	UnhealthyAfter int
	// OnReport, when set, receives each finished run's report (from the loop's goroutine).
	OnReport func(*Report)
	// Now returns the time (default time.Now).
	Now func() time.Time
	// Logger receives start, skip and finish lines (default: discard).
	Logger *slog.Logger
}

// DefaultLoopOptions returns the defaults for the optional fields.
func DefaultLoopOptions() LoopOptions {
	return LoopOptions{UnhealthyAfter: 3, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
}

// Loop runs a reconcile on a cron schedule, one run at a time.
type Loop struct {
	o        LoopOptions
	schedule cron.Schedule
	metrics  *Metrics

	mu       gosync.Mutex
	started  bool
	stopped  bool
	failures int // consecutive failed runs
}

// NewLoop parses the schedule; a bad one is an error naming it.
func NewLoop(o LoopOptions) (*Loop, error) {
	d := DefaultLoopOptions()
	if o.UnhealthyAfter == 0 {
		o.UnhealthyAfter = d.UnhealthyAfter
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Run == nil {
		return nil, errors.New("reconcile loop: no Run function")
	}
	s, err := cron.ParseStandard(o.Schedule)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w (use five cron fields like \"*/15 * * * *\", or @every 15m)", o.Schedule, err)
	}
	return &Loop{o: o, schedule: s, metrics: NewMetrics()}, nil
}

// Metrics returns the loop's metrics.
func (l *Loop) Metrics() *Metrics { return l.metrics }

// Run runs the schedule until ctx is cancelled, then returns once the current run (whose
// context is ctx) has returned.
func (l *Loop) Run(ctx context.Context) error {
	l.setState(true, false)
	defer l.setState(true, true)
	start := l.o.Now()
	next := l.schedule.Next(start)
	if l.o.RunOnStart {
		l.runOnce(ctx, start)
		if ctx.Err() != nil {
			return nil
		}
		next = l.skipMissed(next)
	}
	for {
		l.o.Logger.Info("next reconcile", "at", next.Format(time.RFC3339))
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		l.runOnce(ctx, next)
		if ctx.Err() != nil {
			return nil
		}
		next = l.skipMissed(l.schedule.Next(next))
	}
}

// skipMissed returns the first scheduled time from next on that is still ahead, counting
// the ones that passed while a run was going as skipped.
func (l *Loop) skipMissed(next time.Time) time.Time {
	now := l.o.Now()
	for !next.After(now) {
		l.metrics.Skipped()
		l.o.Logger.Warn("skipped a scheduled reconcile: the previous run was still going", "due", next.Format(time.RFC3339))
		next = l.schedule.Next(next)
	}
	return next
}

func (l *Loop) runOnce(ctx context.Context, due time.Time) {
	l.metrics.Started()
	l.o.Logger.Info("reconcile started", "due", due.Format(time.RFC3339))
	r := l.o.Run(ctx)
	if r == nil {
		r = &Report{Start: due, Err: errors.New("reconcile returned no report")}
	}
	l.metrics.Observe(r)
	l.mu.Lock()
	if r.Failed() {
		l.failures++
	} else {
		l.failures = 0
	}
	l.mu.Unlock()
	if err := r.Error(); err != nil {
		l.o.Logger.Error("reconcile failed", "duration", r.Duration.Round(time.Millisecond), "err", err)
	} else {
		l.o.Logger.Info("reconcile finished", "duration", r.Duration.Round(time.Millisecond), "clusters", len(r.Clusters))
	}
	if l.o.OnReport != nil {
		l.o.OnReport(r)
	}
}

func (l *Loop) setState(started, stopped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started, l.stopped = started, stopped
}

// Healthy reports whether /healthz answers 200, and why not.
func (l *Loop) Healthy() (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !l.started:
		return false, "not started"
	case l.stopped:
		return false, "stopped"
	case l.o.UnhealthyAfter > 0 && l.failures >= l.o.UnhealthyAfter:
		return false, fmt.Sprintf("the last %d reconcile runs failed", l.failures)
	}
	return true, "ok"
}

// Handler serves /healthz and /metrics.
func (l *Loop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := l.Healthy()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, why)
	})
	mux.Handle("GET /metrics", l.metrics.Handler())
	return mux
}
