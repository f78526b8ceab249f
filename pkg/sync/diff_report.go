package sync

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// DiffFormat is an output format of a diff report.
type DiffFormat string

// Diff report formats.
const (
	// DiffFormatText is for people at a terminal: per add-on what changes, with unified diffs.
	DiffFormatText DiffFormat = "text"
	// DiffFormatJSON is the DiffResult as JSON, for machines.
	DiffFormatJSON DiffFormat = "json"
	// DiffFormatMarkdown is for pull request comments: a summary table and collapsed diffs.
	DiffFormatMarkdown DiffFormat = "markdown"
)

// String returns the format's name as the -o flag spells it.
func (f DiffFormat) String() string { return string(f) }

// ParseDiffFormat parses an -o flag value.
func ParseDiffFormat(s string) (DiffFormat, error) {
	switch f := DiffFormat(s); f {
	case DiffFormatText, DiffFormatJSON, DiffFormatMarkdown:
		return f, nil
	}
	return "", fmt.Errorf("output format %q: unknown, use text, json or markdown", s)
}

// DiffReportOptions tune WriteDiff.
type DiffReportOptions struct {
	// Format of the report (default text).
	Format DiffFormat
	// Color marks text output with ANSI colours: green additions, red removals, cyan hunk
	// headers. Only set it when writing to a terminal.
	Color bool
}

// DefaultDiffReportOptions returns uncoloured text.
func DefaultDiffReportOptions() DiffReportOptions {
	return DiffReportOptions{Format: DiffFormatText}
}

// WriteDiff writes a diff report. Secret values are already masked in r.
func WriteDiff(w io.Writer, r *DiffResult, o DiffReportOptions) error {
	switch o.Format {
	case DiffFormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case DiffFormatMarkdown:
		_, err := io.WriteString(w, markdownDiff(r))
		return err
	case DiffFormatText, "":
		_, err := io.WriteString(w, textDiff(r, o.Color))
		return err
	}
	return fmt.Errorf("output format %q: unknown, use text, json or markdown", o.Format)
}

// ANSI colours of the text report.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// painter colours text when enabled.
type painter bool

func (p painter) paint(colour, s string) string {
	if !p || s == "" {
		return s
	}
	return colour + s + ansiReset
}

// diffLine colours one line of a unified diff by its first character.
func (p painter) diffLine(l string) string {
	switch {
	case strings.HasPrefix(l, "@@"):
		return p.paint(ansiCyan, l)
	case strings.HasPrefix(l, "+"):
		return p.paint(ansiGreen, l)
	case strings.HasPrefix(l, "-"):
		return p.paint(ansiRed, l)
	}
	return l
}

// textDiff renders the report for a terminal.
func textDiff(r *DiffResult, colour bool) string {
	p := painter(colour)
	var sb strings.Builder
	for _, a := range r.Addons {
		heading := "addon " + a.Name
		switch {
		case a.Removed:
			heading += " (removed from the cluster)"
		case a.Namespace != "":
			heading += " (namespace " + a.Namespace + ")"
		}
		fmt.Fprintf(&sb, "%s: %s\n", p.paint(ansiBold, heading), a.Summary())
		if a.HelmRelease != "" {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiYellow, "! "+helmLine(a)))
		}
		if a.Hooks != "" {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiYellow, "! "+a.Hooks+" hooks run"))
		}
		if a.Error != "" {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiRed, "! "+a.Error))
		}
		for _, o := range a.Create {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiGreen, "+ "+o.Subject+" (create"+noteSuffix(o.Note)+")"))
			for _, l := range splitLines(o.YAML) {
				fmt.Fprintf(&sb, "      %s\n", p.diffLine("+"+l))
			}
		}
		for _, o := range a.Change {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiYellow, "~ "+o.Subject+" (change"+noteSuffix(o.Note)+")"))
			for _, l := range splitLines(o.Diff) {
				fmt.Fprintf(&sb, "      %s\n", p.diffLine(l))
			}
		}
		for _, o := range a.Adopt {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiYellow, "~ "+o.Subject+" (adopt"+noteSuffix(o.Note)+")"))
			for _, l := range splitLines(o.Diff) {
				fmt.Fprintf(&sb, "      %s\n", p.diffLine(l))
			}
		}
		for _, o := range a.Prune {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiRed, "- "+o.Subject+" (prune"+noteSuffix(o.Note)+")"))
		}
		for _, o := range a.PruneRefused {
			fmt.Fprintf(&sb, "  %s\n", "  "+o.Subject+" (prune refused)")
		}
		for _, o := range a.Keep {
			fmt.Fprintf(&sb, "  %s\n", "= "+o.Subject+" (keep"+noteSuffix(o.Note)+")")
		}
		for _, o := range a.HelmLeftovers {
			fmt.Fprintf(&sb, "  %s\n", "= "+o.Subject+" ("+o.Note+")")
		}
	}
	if len(r.Addons) > 0 {
		sb.WriteByte('\n')
	}
	fmt.Fprintf(&sb, "cluster %s: %s\n", r.Cluster, r.Summary)
	return sb.String()
}

// helmLine is "Helm release web rev 3, chart 1.2.3: to adopt (4 as they are, 1 with changes)".
func helmLine(a AddonDiff) string {
	return fmt.Sprintf("%s (%d as they are, %d with changes)", a.HelmRelease, a.AdoptedAsIs, len(a.Adopt)-a.AdoptedAsIs)
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

// markdownDiff renders the report for a pull request comment: a summary table, then per
// add-on with changes a collapsed section holding a diff block.
func markdownDiff(r *DiffResult) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "### addonsync diff: `%s`\n\n", r.Cluster)
	if r.Revision != "" {
		fmt.Fprintf(&sb, "Config revision `%s`.\n\n", r.Revision)
	}
	sb.WriteString("| Add-on | Create | Change | Unchanged | Prune |\n|---|---:|---:|---:|---:|\n")
	for _, a := range r.Addons {
		s := a.Summary()
		name := a.Name
		if a.Removed {
			name += " (removed)"
		}
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %d |\n", name, s.Create, s.Change, s.Unchanged, s.Prune)
	}
	s := r.Summary
	fmt.Fprintf(&sb, "| **total** | **%d** | **%d** | **%d** | **%d** |\n\n", s.Create, s.Change, s.Unchanged, s.Prune)
	if !r.HasChanges() {
		sb.WriteString("No changes.\n")
		return sb.String()
	}
	fmt.Fprintf(&sb, "%s.\n", s)
	for _, a := range r.Addons {
		if a.Changes() == 0 {
			continue
		}
		sb.WriteString(markdownAddon(a))
	}
	return sb.String()
}

// markdownAddon is one add-on's collapsed section.
func markdownAddon(a AddonDiff) string {
	var list, body strings.Builder
	for _, o := range a.Create {
		fmt.Fprintf(&list, "- create `%s`%s\n", o.Subject, markdownNote(o.Note))
		fmt.Fprintf(&body, "--- /dev/null\n+++ %s\n", o.Subject)
		for _, l := range splitLines(o.YAML) {
			body.WriteString("+" + l + "\n")
		}
	}
	for _, o := range a.Change {
		fmt.Fprintf(&list, "- change `%s`%s\n", o.Subject, markdownNote(o.Note))
		fmt.Fprintf(&body, "--- %s (live)\n+++ %s (after sync)\n%s", o.Subject, o.Subject, o.Diff)
	}
	for _, o := range a.Adopt {
		fmt.Fprintf(&list, "- adopt `%s`%s\n", o.Subject, markdownNote(o.Note))
		fmt.Fprintf(&body, "--- %s (live)\n+++ %s (after sync)\n%s", o.Subject, o.Subject, o.Diff)
	}
	for _, o := range a.Prune {
		fmt.Fprintf(&list, "- prune `%s`%s\n", o.Subject, markdownNote(o.Note))
	}
	for _, o := range a.Keep {
		fmt.Fprintf(&list, "- keep `%s`%s\n", o.Subject, markdownNote(o.Note))
	}
	for _, o := range a.HelmLeftovers {
		fmt.Fprintf(&list, "- keep `%s`%s\n", o.Subject, markdownNote(o.Note))
	}
	if a.HelmRelease != "" {
		fmt.Fprintf(&list, "- %s\n", helmLine(a))
	}
	if a.Hooks != "" {
		fmt.Fprintf(&list, "- %s hooks run\n", a.Hooks)
	}
	if a.Error != "" {
		fmt.Fprintf(&list, "- **%s**\n", a.Error)
	}
	changes := "changes"
	if a.Changes() == 1 {
		changes = "change"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n<details><summary>%s (%d %s)</summary>\n\n%s", a.Name, a.Changes(), changes, list.String())
	if body.Len() > 0 {
		fence := markdownFence(body.String())
		fmt.Fprintf(&sb, "\n%sdiff\n%s%s\n", fence, body.String(), fence)
	}
	sb.WriteString("\n</details>\n")
	return sb.String()
}

func markdownNote(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// markdownFence is a code fence longer than any run of backticks in s, so that content
// holding ``` cannot end the block early.
func markdownFence(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
			continue
		}
		run = 0
	}
	return strings.Repeat("`", max(3, longest+1))
}
