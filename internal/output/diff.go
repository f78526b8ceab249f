package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/addonsync/addonsync/pkg/sync"
)

// DiffFormats returns the formats of a diff report, the default (Text) first.
func DiffFormats() []Format { return []Format{Text, JSON, YAML, Markdown} }

// DiffOptions tune WriteDiff.
type DiffOptions struct {
	// Format of the report, one of DiffFormats (default Text).
	Format Format
	// Color marks text output with ANSI colours: green additions, red removals, cyan hunk
	// headers. Only set it when writing to a terminal.
	Color bool
}

// DefaultDiffOptions returns uncoloured text.
func DefaultDiffOptions() DiffOptions {
	return DiffOptions{Format: Text}
}

// WriteDiff writes a diff report: text for a terminal (per add-on what changes, with unified
// diffs), markdown for a pull request comment (a summary table and collapsed diffs), or the
// DiffResult as JSON or YAML, the stable schema of `addonsync diff -o json`. Secret values
// are already masked in r.
func WriteDiff(w io.Writer, r *sync.DiffResult, o DiffOptions) error {
	switch o.Format {
	case JSON, YAML:
		return WriteStructured(w, o.Format, r)
	case Markdown:
		_, err := io.WriteString(w, markdownDiff(r))
		return err
	case Text, "":
		_, err := io.WriteString(w, textDiff(r, o.Color))
		return err
	}
	return fmt.Errorf("diff report: output format %q: unknown, use %s", o.Format, orList(DiffFormats()))
}

// lines splits text into lines without their newlines; "" has no lines.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
