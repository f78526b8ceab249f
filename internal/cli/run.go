package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/pkg/reconcile"
)

// runOptions are the flags of addonsync run: reconcile's, plus the schedule and the listener.
type runOptions struct {
	*reconcileOptions
	// Schedule is the cron expression runs start at.
	Schedule string
	// Listen is the address /healthz and /metrics are served on; empty serves nothing.
	Listen string
	// RunOnStart runs once at start instead of waiting for the first scheduled time.
	RunOnStart bool
	// UnhealthyAfter makes /healthz answer 503 after this many failed runs in a row (0: never).
	UnhealthyAfter int
	// ShutdownTimeout bounds the HTTP server's shutdown after the loop stopped.
	ShutdownTimeout time.Duration
}

func newRunCmd(g *GlobalOptions) *cobra.Command {
	o := &runOptions{reconcileOptions: newReconcileOptions(g), Listen: ":8080", UnhealthyAfter: 3, ShutdownTimeout: 5 * time.Second}
	cmd := &cobra.Command{
		Use:   "run --schedule CRON",
		Short: "Reconcile on a cron schedule in one long-lived process, with /healthz and /metrics",
		Long: `run does what reconcile does, at every time the cron schedule names, in one process.
Runs never overlap: when a run is still going at the next scheduled time, that time is
skipped (logged, and counted as addonsync_reconcile_runs_total{result="skipped"}).
Each run fetches the config repo again (--repo-url) or rereads --repo, and prints its
summary table to stdout. SIGTERM or SIGINT cancels the run in progress (the clusters'
sync leases are released) and exits 0 once it has returned.

--listen serves:
  /healthz  200 once the loop runs; 503 when the last --unhealthy-after runs all failed
            (a run fails when any of its clusters or its upgrade step failed; 0: never)
  /metrics  Prometheus text format: addonsync_reconcile_runs_total{result},
            addonsync_reconcile_duration_seconds (histogram), addonsync_reconcile_running,
            addonsync_reconcile_last_success_timestamp_seconds,
            addonsync_cluster_sync_objects{cluster,action}, addonsync_cluster_sync_success{cluster}`,
		Example: `  # every 15 minutes, probes and metrics on :8080
  addonsync run --schedule '*/15 * * * *' --listen :8080 \
    --repo-url https://github.com/example-org/platform-addons.git \
    --github-token-file /var/run/secrets/github/token --work-dir /work

  # every 10 minutes from a local clone, starting now, no pull requests
  addonsync run --schedule '@every 10m' --run-on-start --no-upgrade -C ~/platform-addons`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(cmd); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Schedule, "schedule", "", `cron schedule: five fields ("*/15 * * * *"), @hourly, or @every 15m`)
	f.StringVar(&o.Listen, "listen", o.Listen, `address for /healthz and /metrics ("": none)`)
	f.BoolVar(&o.RunOnStart, "run-on-start", false, "run once at start, then on the schedule")
	f.IntVar(&o.UnhealthyAfter, "unhealthy-after", o.UnhealthyAfter, "/healthz answers 503 after this many failed runs in a row (0: never)")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout, "how long the HTTP server may take to shut down")
	return cmd
}

// Validate checks reconcile's flags and the schedule.
func (o *runOptions) Validate() error {
	if o.Schedule == "" {
		return Usage(errors.New(`--schedule: required, e.g. --schedule '*/15 * * * *'`))
	}
	if err := o.reconcileOptions.Validate(); err != nil {
		return err
	}
	if o.UnhealthyAfter < 0 {
		return Usage(fmt.Errorf("--unhealthy-after %d: must be 0 (never) or more", o.UnhealthyAfter))
	}
	_, err := o.newLoop()
	return err
}

func (o *runOptions) newLoop() (*reconcile.Loop, error) {
	unhealthy := o.UnhealthyAfter
	if unhealthy == 0 {
		unhealthy = -1
	}
	logger := slog.New(slog.NewTextHandler(o.g.ErrOut, nil))
	loop, err := reconcile.NewLoop(reconcile.LoopOptions{
		Schedule:       o.Schedule,
		RunOnStart:     o.RunOnStart,
		UnhealthyAfter: unhealthy,
		Logger:         logger,
		Run: func(ctx context.Context) *reconcile.Report {
			rep := o.reconcile(ctx)
			o.report(rep)
			return rep
		},
	})
	if err != nil {
		return nil, Usage(fmt.Errorf("--schedule: %w", err))
	}
	return loop, nil
}

// report prints a run's summary to stdout and its errors to stderr.
func (o *runOptions) report(rep *reconcile.Report) {
	if err := o.write(o.g.Out, rep); err != nil {
		fmt.Fprintf(o.g.ErrOut, "error: writing the summary: %v\n", err)
	}
	if err := rep.Error(); err != nil {
		fmt.Fprintf(o.g.ErrOut, "error: %s\n", ErrorMessage(err))
	}
}

// Run serves /healthz and /metrics and runs the schedule until ctx is cancelled.
func (o *runOptions) Run(ctx context.Context) error {
	loop, err := o.newLoop()
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var srv *http.Server
	serveErr := make(chan error, 1)
	if o.Listen != "" {
		ln, err := net.Listen("tcp", o.Listen)
		if err != nil {
			return fmt.Errorf("--listen %s: %w", o.Listen, err)
		}
		srv = &http.Server{Handler: loop.Handler(), ReadHeaderTimeout: 10 * time.Second}
		fmt.Fprintf(o.g.ErrOut, "serving /healthz and /metrics on http://%s\n", ln.Addr())
		go func() { serveErr <- srv.Serve(ln) }()
	}
	loopErr := make(chan error, 1)
	go func() { loopErr <- loop.Run(ctx) }()
	select {
	case err = <-loopErr:
	case err = <-serveErr:
		err = fmt.Errorf("--listen %s: %w", o.Listen, err)
		stop() // the current run is cancelled; wait for it
		err = errors.Join(err, <-loopErr)
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
		defer cancel()
		if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	fmt.Fprintln(o.g.ErrOut, "stopped")
	return err
}
