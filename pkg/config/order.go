package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseMinor parses a Kubernetes minor version "1.NN" and returns NN.
func ParseMinor(v string) (int, error) {
	digits, ok := strings.CutPrefix(v, "1.")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 0 || len(digits) > 3 || strconv.Itoa(n) != digits {
		return 0, fmt.Errorf("kubernetes version %q: must be a minor like \"1.34\"", v)
	}
	return n, nil
}

// MainBranch is the branch changes land on first.
func (c *Config) MainBranch() string { return c.Repository.Spec.Branches.Main }

// AddonsFor returns the add-ons a cluster runs, each after the add-ons it depends on; add-ons
// with no order between them are sorted by name.
func (c *Config) AddonsFor(cluster string) ([]*Addon, error) {
	cl := c.Clusters[cluster]
	if cl == nil {
		return nil, fmt.Errorf("cluster %q does not exist (clusters: %v)", cluster, c.ClusterNames())
	}
	pending := map[string]int{} // add-on -> number of its dependencies not yet placed
	for _, ca := range cl.Spec.Addons {
		a := c.Addons[ca.Name]
		if a == nil {
			return nil, fmt.Errorf("cluster %q: add-on %q does not exist", cluster, ca.Name)
		}
		pending[ca.Name] = len(a.Spec.DependsOn)
	}
	for name := range pending {
		for _, dep := range c.Addons[name].Spec.DependsOn {
			if _, ok := pending[dep]; !ok {
				return nil, fmt.Errorf("cluster %q: add-on %q depends on %q, which the cluster does not run", cluster, name, dep)
			}
		}
	}
	var ready []string
	for name, n := range pending {
		if n == 0 {
			ready = append(ready, name)
		}
	}
	out := make([]*Addon, 0, len(pending))
	for len(ready) > 0 {
		slices.Sort(ready)
		name := ready[0]
		ready = ready[1:]
		out = append(out, c.Addons[name])
		delete(pending, name)
		for other := range pending {
			if slices.Contains(c.Addons[other].Spec.DependsOn, name) {
				if pending[other]--; pending[other] == 0 {
					ready = append(ready, other)
				}
			}
		}
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("cluster %q: dependsOn cycle among add-ons %v", cluster, sortedKeys(pending))
	}
	return out, nil
}
