package diff3

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkMerge merges two edits of a 3000-line values file (the size of
// kube-prometheus-stack's values.yaml).
func BenchmarkMerge(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	base := make([]string, 3000)
	for i := range base {
		base[i] = fmt.Sprintf("  key%d: value%d", i%400, r.IntN(10))
	}
	ours, theirs := mutate(r, base), mutate(r, base)
	bb, ob, tb := []byte(strings.Join(base, "\n")+"\n"), []byte(strings.Join(ours, "\n")+"\n"), []byte(strings.Join(theirs, "\n")+"\n")
	for _, alg := range []Algorithm{Myers, Histogram} {
		b.Run(alg.String(), func(b *testing.B) {
			for b.Loop() {
				Merge(bb, ob, tb, Options{Algorithm: alg})
			}
		})
	}
}
