package workload

import (
	"fmt"
	"strings"
)

// crdDef is a CustomResourceDefinition to generate: its kind, group and schema size.
type crdDef struct {
	kind, group string
	// size is the approximate size of the YAML in bytes.
	size int
	// cluster marks a cluster-scoped kind.
	cluster bool
}

// plural is the lower-case plural of the kind.
func (c crdDef) plural() string {
	k := strings.ToLower(c.kind)
	switch {
	case strings.HasSuffix(k, "s"):
		return k + "es"
	case strings.HasSuffix(k, "ey"):
		return k + "s"
	case strings.HasSuffix(k, "y"):
		return strings.TrimSuffix(k, "y") + "ies"
	}
	return k + "s"
}

// words describe fields the way generated CRDs do, at length and each a little differently.
var words = strings.Fields(`the of a to when is and this field specifies which set by
controller default value must be if not for in are object configuration resource pod
selector labels allowed deprecated will only used as name namespace cluster defines`)

// description returns a sentence of about n bytes, varied by seed.
func description(seed, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[(seed*7+i*13+i*i)%len(words)])
	}
	return strings.ToUpper(b.String()[:1]) + b.String()[1:] + "."
}

// crdYAML renders the CRD as YAML of about c.size bytes: an openAPIV3Schema of nested
// objects whose fields carry long descriptions, with false and 0 defaults here and there.
func crdYAML(c crdDef, prefixGroup string, labels string) string {
	var b strings.Builder
	scope := "Namespaced"
	if c.cluster {
		scope = "Cluster"
	}
	fmt.Fprintf(&b, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %s.%s
  annotations:
    controller-gen.kubebuilder.io/version: v0.17.2
%s
spec:
  group: %s
  names:
    kind: %s
    listKind: %sList
    plural: %s
    singular: %s
  scope: %s
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - jsonPath: .metadata.creationTimestamp
      name: Age
      type: date
    schema:
      openAPIV3Schema:
        description: %s
        type: object
        properties:
          apiVersion:
            type: string
          kind:
            type: string
          metadata:
            type: object
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
`, c.plural(), prefixGroup, labels, prefixGroup, c.kind, c.kind, c.plural(), strings.ToLower(c.kind), scope,
		description(len(c.kind), 120))
	for g := 0; b.Len() < c.size*13/10; g++ {
		fmt.Fprintf(&b, "              group%03d:\n                description: %s\n                type: object\n                properties:\n",
			g, description(g, 160))
		for f := 0; f < 12 && b.Len() < c.size*13/10; f++ {
			seed := g*12 + f
			fmt.Fprintf(&b, "                  field%02d:\n                    description: %s\n", f, description(seed, 200+seed%150))
			switch seed % 4 {
			case 0:
				b.WriteString("                    type: boolean\n                    default: false\n")
			case 1:
				b.WriteString("                    type: integer\n                    format: int32\n                    minimum: 0\n")
			case 2:
				b.WriteString("                    type: array\n                    items:\n                      type: string\n")
			default:
				b.WriteString("                    type: string\n")
			}
		}
	}
	return b.String()
}
