package sync

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/objref"
)

// Action is what a sync did (or, in a dry run, would do) to one object.
type Action string

// Actions, in the order summaries list them.
const (
	ActionCreated    Action = "created"
	ActionConfigured Action = "configured"
	ActionAdopted    Action = "adopted" // existed, not in the inventory; now applied and a member
	ActionUnchanged  Action = "unchanged"
	ActionPruned     Action = "pruned"
	ActionDeleted    Action = "deleted" // deleted to be recreated (immutable field) or a hook object
	ActionSkipped    Action = "skipped" // not applied: a dependency failed, or kept from pruning
	ActionFailed     Action = "failed"
)

// actionOrder lists every Action in summary order.
var actionOrder = []Action{ActionCreated, ActionAdopted, ActionConfigured, ActionUnchanged, ActionPruned, ActionDeleted, ActionSkipped, ActionFailed}

// String returns the action as printed in summaries.
func (a Action) String() string { return string(a) }

// ObjectID identifies an object independently of its API version (and is
// helmrelease.ObjectID too).
type ObjectID = objref.ID

// IDOf returns the ID of an object.
func IDOf(u *unstructured.Unstructured) ObjectID { return objref.Of(u) }

// ChangeSetEntry is the outcome for one object.
type ChangeSetEntry struct {
	// ID identifies the object.
	ID ObjectID `json:"id"`
	// Subject is "Kind/namespace/name".
	Subject string `json:"subject"`
	// Addon the object belongs to.
	Addon string `json:"addon"`
	// Action taken.
	Action Action `json:"action"`
	// Message explains a skip, a failure, a kept or adopted object, or why an object is
	// configured (e.g. ".spec.replicas changed or removed by someone else").
	Message string `json:"message,omitempty"`
}

func newEntry(addon string, id ObjectID, a Action, msg string) ChangeSetEntry {
	return ChangeSetEntry{ID: id, Subject: id.String(), Addon: addon, Action: a, Message: msg}
}

// String returns "Kind/ns/name created".
func (e ChangeSetEntry) String() string {
	if e.Message != "" {
		return e.Subject + " " + e.Action.String() + " (" + e.Message + ")"
	}
	return e.Subject + " " + e.Action.String()
}

// ChangeSet lists the outcome per object.
type ChangeSet struct {
	Entries []ChangeSetEntry `json:"entries"`
}

// Add appends entries.
func (c *ChangeSet) Add(e ...ChangeSetEntry) { c.Entries = append(c.Entries, e...) }

// Append adds every entry of another change set.
func (c *ChangeSet) Append(o ChangeSet) { c.Entries = append(c.Entries, o.Entries...) }

// Summary counts entries per action.
func (c ChangeSet) Summary() map[Action]int {
	s := make(map[Action]int, len(actionOrder))
	for _, e := range c.Entries {
		s[e.Action]++
	}
	return s
}

// Count returns how many entries have the action.
func (c ChangeSet) Count(a Action) int {
	n := 0
	for _, e := range c.Entries {
		if e.Action == a {
			n++
		}
	}
	return n
}

// String is the summary line: "3 created, 1 configured, 40 unchanged, 2 pruned"; created,
// configured, unchanged and pruned are always listed, other actions when they occurred.
func (c ChangeSet) String() string {
	s := c.Summary()
	var parts []string
	for _, a := range actionOrder {
		switch a {
		case ActionCreated, ActionConfigured, ActionUnchanged, ActionPruned:
		default:
			if s[a] == 0 {
				continue
			}
		}
		parts = append(parts, fmt.Sprintf("%d %s", s[a], a))
	}
	return strings.Join(parts, ", ")
}
