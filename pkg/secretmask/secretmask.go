// Package secretmask hides the values of Kubernetes Secrets wherever addonsync shows objects:
// rendered manifests, diffs, sync reports and pull request bodies. It has one spelling for
// all of them: a hidden value reads "(masked)", and where a diff shows a change, the new side
// says what happened to the key ("(masked, changed)", "(masked, added)", "(masked,
// removed)"). Keys stay visible, values never do.
package secretmask

import "reflect"

// The placeholders a masked value is replaced with.
const (
	// Masked hides a value that is shown alone or did not change.
	Masked = "(masked)"
	// Changed is the new side of a key whose value changed.
	Changed = "(masked, changed)"
	// Added is a key the old side lacks.
	Added = "(masked, added)"
	// Removed is a key the new side lacks.
	Removed = "(masked, removed)"
)

// valueFields are the fields of a Secret that hold values.
var valueFields = [...]string{"data", "stringData"}

// IsSecret reports whether obj (an object's JSON map) is a core/v1 Secret.
func IsSecret(obj map[string]any) bool {
	return obj != nil && obj["kind"] == "Secret" && obj["apiVersion"] == "v1"
}

// Mask replaces every value of obj's data and stringData with Masked, in place, when obj is
// a Secret; other objects are left alone.
func Mask(obj map[string]any) {
	if !IsSecret(obj) {
		return
	}
	for _, field := range valueFields {
		m, _ := obj[field].(map[string]any)
		for k := range m {
			m[k] = Masked
		}
	}
}

// MaskPair masks the two sides of a change to one Secret, in place: before is the object as
// it was (nil for a create), after as it will be (nil for a delete). A key whose value is
// the same on both sides reads Masked on both, so it shows as unchanged; a changed key reads
// Masked before and Changed after; a key only after reads Added, only before Removed.
// Objects that are not Secrets are left alone.
func MaskPair(before, after map[string]any) {
	if !IsSecret(before) && !IsSecret(after) {
		return
	}
	for _, field := range valueFields {
		b, _ := before[field].(map[string]any)
		a, _ := after[field].(map[string]any)
		for k, bv := range b {
			av, ok := a[k]
			switch {
			case !ok:
				b[k] = Removed
			case reflect.DeepEqual(av, bv):
				b[k], a[k] = Masked, Masked
			default:
				b[k], a[k] = Masked, Changed
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				a[k] = Added
			}
		}
	}
}
