package cli

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/sync"
)

func TestProgressPrinterShowsHooksAndWaits(t *testing.T) {
	var buf bytes.Buffer
	p := progressPrinter(&buf, false)
	p(sync.Event{Type: sync.EventAddonStarted, Addon: "web"})
	p(sync.Event{Type: sync.EventHook, Addon: "web", Message: "Job/web/migrate: pre-install succeeded"})
	p(sync.Event{Type: sync.EventWaiting, Addon: "web", Message: "Deployment/web/web: InProgress: Replicas: 0/1"})
	want := "web: syncing\n" +
		"web: hook Job/web/migrate: pre-install succeeded\n" +
		"web: waiting: Deployment/web/web: InProgress: Replicas: 0/1\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}
