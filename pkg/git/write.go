package git

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// WriteCommit writes a commit on parent whose tree is parent's with files set (path →
// content; a nil content deletes the path, and directories left empty go too) and returns
// it. New files are regular files; a replaced file keeps its executable bit. No branch
// moves: Push publishes the commit.
func (g *Repository) WriteCommit(parent Hash, files map[string][]byte, message string, author Signature) (Hash, error) {
	pc, err := g.r.CommitObject(parent.plumbing())
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", parent, err)
	}
	tree := pc.TreeHash
	for _, p := range slices.Sorted(maps.Keys(files)) {
		var blob plumbing.Hash
		if files[p] != nil {
			if blob, err = g.writeBlob(files[p]); err != nil {
				return "", fmt.Errorf("%s: %w", p, err)
			}
		}
		if tree, err = g.setPath(tree, strings.Split(p, "/"), blob); err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
	}
	if tree.IsZero() { // every file deleted: git's empty tree
		obj := g.r.Storer.NewEncodedObject()
		if err := (&object.Tree{}).Encode(obj); err != nil {
			return "", err
		}
		if tree, err = g.r.Storer.SetEncodedObject(obj); err != nil {
			return "", err
		}
	}
	sig := object.Signature{Name: author.Name, Email: author.Email, When: author.When}
	c := &object.Commit{
		Author: sig, Committer: sig, Message: message,
		TreeHash: tree, ParentHashes: []plumbing.Hash{pc.Hash},
	}
	obj := g.r.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", err
	}
	h, err := g.r.Storer.SetEncodedObject(obj)
	return hashOf(h), err
}

func (g *Repository) writeBlob(data []byte) (plumbing.Hash, error) {
	obj := g.r.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

// setPath returns a tree like treeHash (zero for an empty tree) with the file at parts set
// to blob (zero: removed), writing the changed trees. An empty result is the zero hash.
func (g *Repository) setPath(treeHash plumbing.Hash, parts []string, blob plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !treeHash.IsZero() {
		t, err := g.r.TreeObject(treeHash)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	name := parts[0]
	idx := slices.IndexFunc(entries, func(e object.TreeEntry) bool { return e.Name == name })
	entry := object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob}
	if len(parts) > 1 {
		sub := plumbing.ZeroHash
		if idx >= 0 && entries[idx].Mode == filemode.Dir {
			sub = entries[idx].Hash
		}
		h, err := g.setPath(sub, parts[1:], blob)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entry = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	} else if idx >= 0 && entries[idx].Mode == filemode.Executable {
		entry.Mode = filemode.Executable
	}
	switch {
	case entry.Hash.IsZero() && idx >= 0:
		entries = slices.Delete(entries, idx, idx+1)
	case entry.Hash.IsZero():
		// deleting a path that is not there
	case idx >= 0:
		entries[idx] = entry
	default:
		entries = append(entries, entry)
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	sort.Slice(entries, func(i, j int) bool { return treeSortKey(entries[i]) < treeSortKey(entries[j]) })
	obj := g.r.Storer.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

// treeSortKey orders tree entries as git does: directories sort as if named "name/".
func treeSortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}
