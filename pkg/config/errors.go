package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a config repo, located by file, line and field.
type Error struct {
	// File is the path relative to the repo root, e.g. "clusters/prod/cluster.yaml".
	File string `json:"file"`
	// Line is 1-based; 0 when the problem is about the whole file or directory.
	Line int `json:"line,omitempty"`
	// Column is 1-based; 0 when unknown.
	Column int `json:"column,omitempty"`
	// Field is the path of the field in JSON names, e.g. "spec.addons[2].name"; empty for the file.
	Field string `json:"field,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Hint says what to do about it; may be empty.
	Hint string `json:"hint,omitempty"`
}

// Error reads like
// `clusters/prod/cluster.yaml:7: spec.addons[2].name: add-on "foo" does not exist (add addons/foo/addon.yaml or remove it)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Errors is every problem found in a config repo, sorted by file, then line.
type Errors []*Error

// Error is one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.As finds an *Error in Errors.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sort orders problems by file, line, column, field and message, and drops exact duplicates.
func (es Errors) sort() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return slices.CompactFunc(es, func(a, b *Error) bool { return *a == *b })
}

// problems collects Errors while a config is loaded.
type problems struct{ list Errors }

func (p *problems) add(e *Error) { p.list = append(p.list, e) }

// fileError records a problem about a whole file or directory.
func (p *problems) fileError(file, hint, format string, args ...any) {
	p.add(&Error{File: file, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// err returns the sorted problems, or nil when there are none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list.sort()
}
