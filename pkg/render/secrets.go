package render

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Masked replaces every value of a Secret's data and stringData in MaskSecrets.
const Masked = "(masked)"

// MaskSecrets replaces the values of every Secret's data and stringData in c (objects and
// hooks) with Masked, keeping the keys, so output can be shown without the secrets.
func MaskSecrets(c *Cluster) {
	for i := range c.Addons {
		for _, o := range c.Addons[i].Objects {
			maskSecret(o)
		}
		for _, h := range c.Addons[i].Hooks {
			maskSecret(h.Object)
		}
	}
}

func maskSecret(o *unstructured.Unstructured) {
	if o.GetKind() != "Secret" || o.GetAPIVersion() != "v1" {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		m, ok := o.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = Masked
		}
	}
}
