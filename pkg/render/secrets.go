package render

import "github.com/addonsync/addonsync/pkg/secretmask"

// Masked replaces every value of a Secret's data and stringData in MaskSecrets.
const Masked = secretmask.Masked

// MaskSecrets replaces the values of every Secret's data and stringData in c (objects and
// hooks) with Masked, keeping the keys, so output can be shown without the secrets.
func MaskSecrets(c *Cluster) {
	for i := range c.Addons {
		for _, o := range c.Addons[i].Objects {
			secretmask.Mask(o.Object)
		}
		for _, h := range c.Addons[i].Hooks {
			secretmask.Mask(h.Object.Object)
		}
	}
}
