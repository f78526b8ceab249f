package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:s3cret@charts.example.com/x": "https://REDACTED@charts.example.com/x",
		"oci://tok@registry.example.com/charts":    "oci://REDACTED@registry.example.com/charts",
		"https://charts.example.com/x":             "https://charts.example.com/x",
	} {
		if got := URL("user:s3cret@charts.example.com"); got != "REDACTED@charts.example.com" {
			t.Errorf("URL(schemeless) = %q", got)
		}
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
		text := `GET "` + in + `/index.yaml": 401`
		if got := Text(text); got != `GET "`+want+`/index.yaml": 401` {
			t.Errorf("Text(%q) = %q", text, got)
		}
	}
	base := errors.New("pull https://u:s3cret@h.example/c failed")
	err := Error(base)
	if strings.Contains(err.Error(), "s3cret") || !errors.Is(err, base) {
		t.Errorf("Error() = %v (Is base: %t)", err, errors.Is(err, base))
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	log.Info("downloading", "source", "https://u:s3cret@h.example/c", "err", base)
	if strings.Contains(buf.String(), "s3cret") || !strings.Contains(buf.String(), "REDACTED@h.example") {
		t.Errorf("log line = %s", buf.String())
	}
}
