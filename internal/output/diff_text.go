package output

import (
	"fmt"
	"strings"

	"github.com/addonsync/addonsync/pkg/sync"
)

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
func textDiff(r *sync.DiffResult, colour bool) string {
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
			for _, l := range lines(o.YAML) {
				fmt.Fprintf(&sb, "      %s\n", p.diffLine("+"+l))
			}
		}
		for _, o := range a.Change {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiYellow, "~ "+o.Subject+" (change"+noteSuffix(o.Note)+")"))
			for _, l := range lines(o.Diff) {
				fmt.Fprintf(&sb, "      %s\n", p.diffLine(l))
			}
		}
		for _, o := range a.Adopt {
			fmt.Fprintf(&sb, "  %s\n", p.paint(ansiYellow, "~ "+o.Subject+" (adopt"+noteSuffix(o.Note)+")"))
			for _, l := range lines(o.Diff) {
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
func helmLine(a sync.AddonDiff) string {
	return fmt.Sprintf("%s (%d as they are, %d with changes)", a.HelmRelease, a.AdoptedAsIs, len(a.Adopt)-a.AdoptedAsIs)
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}
