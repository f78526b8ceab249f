package helmrelease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// RetireOptions say what Retire does with the records.
type RetireOptions struct {
	// Keep keeps the records instead of deleting them (the repo's spec.helmReleases.retire:
	// keep): labelled addonsync.io/retired=true, and with Helm's owner label moved to
	// addonsync.io/helm-owner, so helm list, history, upgrade and rollback no longer see them.
	Keep bool
}

// ChangedError is returned by Retire when the release changed since it was adopted (someone
// ran helm upgrade or rollback meanwhile): nothing is retired, and the next sync adopts the
// new revision.
type ChangedError struct {
	// Release as adopted.
	Release *Release
	// Revision and Status found now (0 and "" when the records are gone).
	Revision int
	Status   string
}

func (e *ChangedError) Error() string {
	r := e.Release
	return fmt.Sprintf("Helm release %s in namespace %s: changed since addonsync adopted rev %d (now rev %d, %s): not retired; rerun addonsync sync to adopt it again",
		r.Name, r.Namespace, r.Revision, e.Revision, e.Status)
}

// Retire removes the Helm release rel from Helm's view once its add-on synced (call it only
// after the whole cluster synced cleanly): every revision's record is deleted, or with
// o.Keep relabelled. It first lists the records again and refuses with a *ChangedError when
// a newer revision appeared; each delete or relabel carries the record's resourceVersion.
// The objects of the release are not touched. It returns the records it retired; records
// already gone are not an error.
func Retire(ctx context.Context, client kubernetes.Interface, rel *Release, o RetireOptions) ([]Record, error) {
	sel := labels.Set{LabelOwner: OwnerHelm, LabelName: rel.Name}.String()
	r := NewReader(client, nil, ReaderOptions{Drivers: []Driver{rel.Driver}})
	recs, err := r.listRecords(ctx, rel.Driver, rel.Namespace, sel)
	if err != nil {
		return nil, err
	}
	groups := groupRecords(recs)
	group := groups[Key{rel.Namespace, rel.Name}]
	if len(group) == 0 {
		return nil, nil
	}
	if latest := group[len(group)-1]; latest.revision != rel.Revision {
		return nil, &ChangedError{Release: rel, Revision: latest.revision, Status: string(latest.status)}
	}
	var retired []Record
	var errs []error
	for _, rec := range group {
		if err := retireRecord(ctx, client, rel.Driver, rec, o); err != nil {
			errs = append(errs, err)
			continue
		}
		retired = append(retired, Record{Name: rec.objName, Revision: rec.revision, Status: rec.status})
	}
	return retired, errors.Join(errs...)
}

func retireRecord(ctx context.Context, client kubernetes.Interface, d Driver, rec rawRecord, o RetireOptions) error {
	meta := rec.meta()
	subject := fmt.Sprintf("%s %s/%s", d.kind(), rec.namespace, rec.objName)
	var err error
	if !o.Keep {
		uid, rv := meta.UID, meta.ResourceVersion
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
		if d == DriverConfigMap {
			err = client.CoreV1().ConfigMaps(rec.namespace).Delete(ctx, rec.objName, opts)
		} else {
			err = client.CoreV1().Secrets(rec.namespace).Delete(ctx, rec.objName, opts)
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: delete Helm release record: %w", subject, err)
		}
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": meta.ResourceVersion,
		"labels": map[string]any{
			LabelOwner:        nil,
			LabelRetired:      "true",
			LabelRetiredOwner: meta.Labels[LabelOwner],
		},
	}})
	if err != nil {
		return err
	}
	if d == DriverConfigMap {
		_, err = client.CoreV1().ConfigMaps(rec.namespace).Patch(ctx, rec.objName, types.MergePatchType, patch, metav1.PatchOptions{})
	} else {
		_, err = client.CoreV1().Secrets(rec.namespace).Patch(ctx, rec.objName, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil {
		return fmt.Errorf("%s: label Helm release record retired: %w", subject, err)
	}
	return nil
}

func (rec rawRecord) meta() metav1.ObjectMeta {
	if rec.configMap != nil {
		return rec.configMap.ObjectMeta
	}
	return rec.secret.ObjectMeta
}
