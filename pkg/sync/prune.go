package sync

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/objref"
	"github.com/addonsync/addonsync/pkg/render"
)

// Default prune limits, used when neither the repository nor the add-on sets them.
const (
	DefaultPruneMaxObjects = 25
	DefaultPruneMaxPercent = 30
)

// KeptObject is an inventory member the prune rules keep although the render lacks it.
type KeptObject struct {
	// ID of the object.
	ID ObjectID
	// Reason it is kept, e.g. "Namespaces are not pruned unless prune.allowNamespaces is set".
	Reason string
}

// PrunePlan is what a prune would do.
type PrunePlan struct {
	// Delete lists the objects to delete, in deletion order (webhooks first, CRDs and
	// Namespaces last).
	Delete []ObjectID
	// Keep lists members the render lacks that the rules keep. addonsync releases them from
	// the inventory (removes their part-of label) so they are reported once and then left alone.
	Keep []KeptObject
}

// PruneCandidates decides, without I/O, what to prune: inventory members the render lacks,
// except Namespaces, CRDs, PersistentVolumes and claims (unless the policy allows them) and
// objects annotated helm.sh/resource-policy=keep or addonsync.io/prune=disabled.
func PruneCandidates(inv *Inventory, rendered []*unstructured.Unstructured, p config.PrunePolicy) PrunePlan {
	want := make(map[ObjectID]bool, len(rendered))
	for _, o := range rendered {
		want[IDOf(o)] = true
	}
	var plan PrunePlan
	for _, mem := range inv.Members {
		if want[mem.ID] {
			continue
		}
		if reason := keepReason(mem, p); reason != "" {
			plan.Keep = append(plan.Keep, KeptObject{ID: mem.ID, Reason: reason})
			continue
		}
		plan.Delete = append(plan.Delete, mem.ID)
	}
	sort.SliceStable(plan.Delete, func(i, j int) bool {
		si, sj := stageOf(plan.Delete[i].GroupKind()), stageOf(plan.Delete[j].GroupKind())
		if si != sj {
			return si > sj
		}
		return objref.Less(plan.Delete[i], plan.Delete[j])
	})
	return plan
}

var (
	gkPV  = schema.GroupKind{Kind: "PersistentVolume"}
	gkPVC = schema.GroupKind{Kind: "PersistentVolumeClaim"}
)

func keepReason(mem Member, p config.PrunePolicy) string {
	switch {
	case mem.Annotations[render.AnnotationResourcePolicy] == "keep":
		return render.AnnotationResourcePolicy + "=keep"
	case mem.Annotations[AnnotationPrune] == "disabled":
		return AnnotationPrune + "=disabled"
	}
	switch mem.ID.GroupKind() {
	case gkNamespace:
		if !p.AllowNamespaces {
			return "Namespaces are not pruned unless prune.allowNamespaces is set"
		}
	case gkCRD:
		if !p.AllowCRDs {
			return "CustomResourceDefinitions are not pruned unless prune.allowCRDs is set"
		}
	case gkPV, gkPVC:
		if !p.AllowPersistentVolumes {
			return "volumes and claims are not pruned unless prune.allowPersistentVolumes is set"
		}
	}
	return ""
}

// pruneLimit is the effective limit of one add-on.
type pruneLimit struct {
	maxObjects int // <0: none
	maxPercent int // <0: none
}

// effectiveLimit merges the add-on's limits over the repository's over the defaults;
// maxPrune (SyncOptions.MaxPrune) > 0 replaces both with a count, < 0 removes them.
func effectiveLimit(repo, addon config.PruneLimits, maxPrune int) pruneLimit {
	switch {
	case maxPrune > 0:
		return pruneLimit{maxObjects: maxPrune, maxPercent: -1}
	case maxPrune < 0:
		return pruneLimit{maxObjects: -1, maxPercent: -1}
	}
	l := pruneLimit{maxObjects: DefaultPruneMaxObjects, maxPercent: DefaultPruneMaxPercent}
	for _, src := range []config.PruneLimits{repo, addon} {
		if src.MaxObjects != nil {
			l.maxObjects = *src.MaxObjects
		}
		if src.MaxPercent != nil {
			l.maxPercent = *src.MaxPercent
		}
	}
	return l
}

// check refuses deleting count of total objects when that is over the limit.
func (l pruneLimit) check(addon string, count, total int) error {
	if count == 0 {
		return nil
	}
	if l.maxObjects >= 0 && count > l.maxObjects {
		return &PruneLimitError{Addon: addon, Count: count, Total: total, Limit: fmt.Sprintf("%d objects", l.maxObjects)}
	}
	if l.maxPercent >= 0 && total > 0 && count*100 > l.maxPercent*total {
		return &PruneLimitError{Addon: addon, Count: count, Total: total, Limit: fmt.Sprintf("%d %%", l.maxPercent)}
	}
	return nil
}
