package output

import (
	"fmt"
	"strings"

	"github.com/addonsync/addonsync/pkg/sync"
)

// markdownDiff renders the report for a pull request comment: a summary table, then per
// add-on with changes a collapsed section holding a diff block.
func markdownDiff(r *sync.DiffResult) string {
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
func markdownAddon(a sync.AddonDiff) string {
	var list, body strings.Builder
	for _, o := range a.Create {
		fmt.Fprintf(&list, "- create `%s`%s\n", o.Subject, markdownNote(o.Note))
		fmt.Fprintf(&body, "--- /dev/null\n+++ %s\n", o.Subject)
		for _, l := range lines(o.YAML) {
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
