package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MinMinor is the oldest Kubernetes minor (1.MinMinor) addonsync renders for.
const MinMinor = 25

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

// DependsOn returns what an add-on depends on in a cluster: its addon.yaml's dependsOn plus
// the cluster's own for it, sorted and without duplicates.
func (c *Config) DependsOn(cluster, addon string) []string {
	var deps []string
	if a := c.Addons[addon]; a != nil {
		deps = append(deps, a.Spec.DependsOn...)
	}
	if cl := c.Clusters[cluster]; cl != nil {
		for _, ca := range cl.Spec.Addons {
			if ca.Name == addon {
				deps = append(deps, ca.DependsOn...)
			}
		}
	}
	slices.Sort(deps)
	return slices.Compact(deps)
}

// AddonsFor returns the add-ons a cluster runs, each after the add-ons it depends on; add-ons
// with no order between them are sorted by name.
func (c *Config) AddonsFor(cluster string) ([]*Addon, error) {
	cl := c.Clusters[cluster]
	if cl == nil {
		return nil, fmt.Errorf("cluster %q does not exist (clusters: %v)", cluster, c.ClusterNames())
	}
	pending := map[string]int{} // add-on -> number of its dependencies not yet placed
	deps := map[string][]string{}
	for _, ca := range cl.Spec.Addons {
		a := c.Addons[ca.Name]
		if a == nil {
			return nil, fmt.Errorf("cluster %q: add-on %q does not exist", cluster, ca.Name)
		}
		deps[ca.Name] = c.DependsOn(cluster, ca.Name)
		pending[ca.Name] = len(deps[ca.Name])
	}
	for name := range pending {
		for _, dep := range deps[name] {
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
			if slices.Contains(deps[other], name) {
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
