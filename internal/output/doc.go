// Package output prints what addonsync's commands produce: the --output format every command
// shares (Format, AddFlag, WriteStructured) and the diff report (WriteDiff) in text, with or
// without colour, markdown for pull request comments, JSON and YAML.
//
// Library packages return data (sync.DiffResult, sync.Result, upgrade.Bump); this package
// decides how a person or a machine reads it. Secret values are masked before the data gets
// here (package secretmask), so nothing in this package sees one.
//
// # Formats
//
// A command declares the formats it offers; the first is the default, and a value outside
// them is a flag error naming the choices:
//
//	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
//	...
//	if o.Output.Structured() {
//		return output.WriteStructured(w, o.Output, rows)
//	}
//
// # Diff report
//
//	output.WriteDiff(w, res, output.DiffOptions{Format: output.Markdown})
package output
