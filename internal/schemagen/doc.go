// Package schemagen generates the JSON Schemas of the addonsync config files from the Go
// types in pkg/config, with descriptions taken from their doc comments.
//
// The schemas are written to schema/ by `go run ./hack/schemagen`; a test fails when the
// committed files are stale. Editors use them through a modeline such as
//
//	# yaml-language-server: $schema=../../schema/addon.schema.json
package schemagen
