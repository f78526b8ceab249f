package sync

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/addonsync/addonsync/pkg/secretmask"
)

// FieldConflict is one field another manager owns.
type FieldConflict struct {
	// Manager owning the field.
	Manager string
	// Field path, e.g. ".data.key".
	Field string
}

// ConflictError is returned when an add-on with forceConflicts: false would take a field
// another field manager owns.
type ConflictError struct {
	// Subject is "Kind/ns/name".
	Subject string
	// Conflicts lists the fields and their managers.
	Conflicts []FieldConflict
	// Err is the API error.
	Err error
}

func (e *ConflictError) Error() string {
	parts := make([]string, 0, len(e.Conflicts))
	for _, c := range e.Conflicts {
		parts = append(parts, fmt.Sprintf("%s (owned by %q)", c.Field, c.Manager))
	}
	return fmt.Sprintf("%s: apply conflict: %s; set sync.forceConflicts to take the fields or remove them from the render",
		e.Subject, strings.Join(parts, ", "))
}

func (e *ConflictError) Unwrap() error { return e.Err }

// ImmutableFieldError is returned when an apply changes an immutable field and the add-on
// does not allow recreating the object.
type ImmutableFieldError struct {
	// Subject is "Kind/ns/name".
	Subject string
	// Fields that are immutable, e.g. "spec.selector".
	Fields []string
	// Err is the API error.
	Err error
}

func (e *ImmutableFieldError) fieldList() string { return strings.Join(e.Fields, ", ") }

func (e *ImmutableFieldError) Error() string {
	return fmt.Sprintf("%s: immutable field %s changed; set sync.recreate: true on the add-on to delete and recreate it, or delete it by hand",
		e.Subject, e.fieldList())
}

func (e *ImmutableFieldError) Unwrap() error { return e.Err }

// PruneLimitError is returned when a prune would delete more than the limits allow; nothing
// of the add-on is deleted then.
type PruneLimitError struct {
	// Addon name.
	Addon string
	// Count of objects the prune would delete.
	Count int
	// Total objects the add-on held.
	Total int
	// Limit that was exceeded, e.g. "25 objects" or "30 %".
	Limit string
}

func (e *PruneLimitError) Error() string {
	return fmt.Sprintf("add-on %q: prune of %d of %d objects refused: more than %s; check the render, then rerun with --max-prune %d",
		e.Addon, e.Count, e.Total, e.Limit, e.Count)
}

var conflictManager = regexp.MustCompile(`conflict with "([^"]*)"`)

// applyError turns a conflict or an immutable-field rejection into a typed error naming the
// object and the fields; other errors are wrapped with the subject.
func applyError(id ObjectID, err error) error {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: apply failed: %w", id, err)
	}
	if se.Status().Details == nil {
		if id.Group == "" && id.Kind == "Secret" {
			return secretError(id, se.Status())
		}
		return fmt.Errorf("%s: apply failed: %w", id, err)
	}
	causes := se.Status().Details.Causes
	switch {
	case apierrors.IsConflict(err):
		ce := &ConflictError{Subject: id.String(), Err: err}
		for _, c := range causes {
			if c.Type != metav1.CauseTypeFieldManagerConflict {
				continue
			}
			fc := FieldConflict{Field: c.Field}
			if m := conflictManager.FindStringSubmatch(c.Message); m != nil {
				fc.Manager = m[1]
			}
			ce.Conflicts = append(ce.Conflicts, fc)
		}
		if len(ce.Conflicts) > 0 {
			return ce
		}
	case apierrors.IsInvalid(err):
		ie := &ImmutableFieldError{Subject: id.String(), Err: err}
		for _, c := range causes {
			if strings.Contains(c.Message, "field is immutable") {
				ie.Fields = append(ie.Fields, c.Field)
			}
		}
		if len(ie.Fields) > 0 {
			return ie
		}
	}
	if id.Group == "" && id.Kind == "Secret" {
		return secretError(id, se.Status())
	}
	return fmt.Errorf("%s: apply failed: %w", id, err)
}

// secretError reports a rejected Secret with the API server's reason and message, with
// every value the message quotes masked: "Invalid value: ..." quotes the rejected value.
func secretError(id ObjectID, st metav1.Status) error {
	msg := maskValues(st.Message)
	if msg == "" {
		msg = string(st.Reason)
	}
	return &maskedError{err: &apierrors.StatusError{ErrStatus: st}, msg: fmt.Sprintf(
		"%s: apply failed: %s; Secret values are not shown", id, msg)}
}

// invalidValue matches the value part of a field error: `Invalid value: "x"` (JSON-quoted,
// escapes included), or an unquoted value up to the next colon or comma.
var invalidValue = regexp.MustCompile(`(Invalid value|Unsupported value|Duplicate value|Forbidden value): ("(?:[^"\\]|\\.)*"|[^:,\]]*)`)

// maskValues replaces the values a server message quotes by secretmask.Masked.
func maskValues(msg string) string {
	return invalidValue.ReplaceAllString(msg, "$1: "+secretmask.Masked)
}

// maskedError prints msg but unwraps to the API error, so callers can still branch on it.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
