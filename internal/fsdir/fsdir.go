// Package fsdir implements the ReadDir half of an open fs.ReadDirFile over a listing
// already read, for the in-memory file systems of pkg/git (a commit's tree) and
// pkg/upgrade (an overlay of two trees).
package fsdir

import (
	"io"
	"io/fs"
)

// Entries is an open directory's listing, read in order by ReadDir.
type Entries struct {
	entries []fs.DirEntry
	offset  int
}

// NewEntries returns a listing positioned at its first entry.
func NewEntries(entries []fs.DirEntry) Entries { return Entries{entries: entries} }

// ReadDir returns the next n entries (io.EOF at the end), or all that are left when n <= 0,
// as fs.ReadDirFile documents.
func (d *Entries) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.offset += n
	return rest[:n], nil
}
