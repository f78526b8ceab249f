package reconcile

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestShard(t *testing.T) {
	five := []string{"wsp", "prod", "dev", "edge", "lab"} // sorted: dev edge lab prod wsp
	for _, tc := range []struct {
		clusters     []string
		index, count int
		want         []string
	}{
		{five, 0, 1, []string{"dev", "edge", "lab", "prod", "wsp"}},
		{five, 0, 0, []string{"dev", "edge", "lab", "prod", "wsp"}},
		{five, 0, 2, []string{"dev", "lab", "wsp"}},
		{five, 1, 2, []string{"edge", "prod"}},
		{five, 0, 3, []string{"dev", "prod"}},
		{five, 1, 3, []string{"edge", "wsp"}},
		{five, 2, 3, []string{"lab"}},
		{five, 4, 6, []string{"wsp"}},
		{five, 5, 6, []string{}},
		{nil, 0, 3, []string{}},
	} {
		t.Run(fmt.Sprintf("%d of %d", tc.index, tc.count), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Shard(tc.clusters, tc.index, tc.count)); diff != "" {
				t.Errorf("Shard (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("every cluster in exactly one shard", func(t *testing.T) {
		for count := 1; count <= 7; count++ {
			seen := map[string]int{}
			for i := range count {
				for _, c := range Shard(five, i, count) {
					seen[c]++
				}
			}
			for _, c := range five {
				if seen[c] != 1 {
					t.Errorf("count %d: %s in %d shards", count, c, seen[c])
				}
			}
		}
	})
	t.Run("does not reorder its input", func(t *testing.T) {
		in := []string{"b", "a"}
		Shard(in, 0, 1)
		if diff := cmp.Diff([]string{"b", "a"}, in); diff != "" {
			t.Errorf("input (-want +got):\n%s", diff)
		}
	})
}

func TestValidateShard(t *testing.T) {
	for _, tc := range []struct {
		index, count int
		want         string
	}{
		{0, 1, ""},
		{2, 3, ""},
		{3, 3, "shard index 3: must be from 0 to 2 (shard count 3)"},
		{-1, 3, "shard index -1: must be from 0 to 2 (shard count 3)"},
		{0, 0, "shard count 0: must be at least 1"},
	} {
		got := ""
		if err := ValidateShard(tc.index, tc.count); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ValidateShard(%d, %d) = %q, want %q", tc.index, tc.count, got, tc.want)
		}
	}
}
