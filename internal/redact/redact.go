// Package redact removes credentials from URLs before they reach an error, a log line or
// any other output. It is the one place addonsync does so.
package redact

import (
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// Placeholder replaces the user information of a URL.
const Placeholder = "REDACTED"

// URL returns raw with its user information (user:password@) replaced by Placeholder;
// raw is returned unchanged when it holds none. A string that does not parse as a URL is
// redacted as text.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		return schemeless.ReplaceAllString(Text(raw), Placeholder+"@")
	}
	if u.User == nil {
		return raw
	}
	u.User = url.User(Placeholder)
	return u.String()
}

// userinfo matches the user information of a URL inside free text: scheme://userinfo@.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s"']+@`)

// schemeless matches the user information of a host path without a scheme: user:pw@host.
var schemeless = regexp.MustCompile(`^[^/?#@\s"']+@`)

// Text replaces the user information of every URL in s by Placeholder.
func Text(s string) string {
	if !userinfo.MatchString(s) {
		return s
	}
	return userinfo.ReplaceAllString(s, "${1}"+Placeholder+"@")
}

// Error is err with every URL's user information redacted from its text; nil stays nil.
// The original error stays reachable with errors.Is and errors.As.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if s := err.Error(); Text(s) != s {
		return &redacted{msg: Text(s), err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts string and error values.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case string:
		a.Value = slog.StringValue(Text(v))
	case error:
		a.Value = slog.StringValue(Text(v.Error()))
	}
	return a
}
