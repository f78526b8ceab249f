package reconcile

import (
	"fmt"
	"slices"
)

// Shard returns the clusters shard index of count syncs: sorted by name, the i-th cluster
// belongs to shard i % count. count < 1 means one shard.
func Shard(clusters []string, index, count int) []string {
	sorted := slices.Sorted(slices.Values(clusters))
	if count <= 1 {
		return sorted
	}
	out := []string{}
	for i, c := range sorted {
		if i%count == index {
			out = append(out, c)
		}
	}
	return out
}

// ValidateShard checks a shard index and count as flags give them.
func ValidateShard(index, count int) error {
	if count < 1 {
		return fmt.Errorf("shard count %d: must be at least 1", count)
	}
	if index < 0 || index >= count {
		return fmt.Errorf("shard index %d: must be from 0 to %d (shard count %d)", index, count-1, count)
	}
	return nil
}
