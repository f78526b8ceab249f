package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

func (l *loader) checkCluster(cfg *Config, c *Cluster, doc *document) {
	s := c.Spec
	if v := s.KubernetesVersion; v != "" {
		if n, err := ParseMinor(v); err != nil {
			l.errs.add(doc.at("spec.kubernetesVersion", `the minor only, quoted, e.g. "1.34"`, "%v", err))
		} else if n < MinMinor {
			l.errs.add(doc.at("spec.kubernetesVersion", fmt.Sprintf("upgrade the cluster to 1.%d or newer, or pin an older addonsync", MinMinor),
				"kubernetes 1.%d is older than the oldest minor addonsync supports (1.%d)", n, MinMinor))
		}
	}
	kc := s.Kubeconfig
	switch {
	case kc.Path != "" && kc.Secret != nil:
		l.errs.add(doc.at("spec.kubeconfig", "keep one of them", "kubeconfig has both path and secret"))
	case kc.InCluster && (kc.Path != "" || kc.Secret != nil):
		l.errs.add(doc.at("spec.kubeconfig.inCluster", "remove path and secret, or inCluster", "inCluster cannot be combined with path or secret"))
	}
	index := map[string]int{}
	for i, ca := range s.Addons {
		field := fmt.Sprintf("spec.addons[%d].name", i)
		if j, dup := index[ca.Name]; dup {
			l.errs.add(doc.at(field, "remove the duplicate", "add-on %q is already listed in spec.addons[%d]", ca.Name, j))
			continue
		}
		index[ca.Name] = i
		if ca.Name != "" && cfg.Addons[ca.Name] == nil && !l.broken[ca.Name] {
			l.errs.add(doc.at(field, fmt.Sprintf("add addons/%s/addon.yaml or remove it", ca.Name),
				"add-on %q does not exist", ca.Name))
		}
	}
	for i, ca := range s.Addons {
		for j, dep := range ca.DependsOn {
			field := fmt.Sprintf("spec.addons[%d].dependsOn[%d]", i, j)
			switch _, runs := index[dep]; {
			case dep == ca.Name:
				l.errs.add(doc.at(field, "remove it", "add-on %q cannot depend on itself", dep))
			case !runs:
				l.errs.add(doc.at(field, fmt.Sprintf("add {name: %s} to spec.addons or remove it", dep),
					"add-on %q depends on %q, which this cluster does not run", ca.Name, dep))
			}
		}
	}
	// A cycle only through addon.yaml files is reported once by checkCycles; one that needs
	// this cluster's own dependsOn is reported here.
	hasOwn := slices.ContainsFunc(s.Addons, func(ca ClusterAddon) bool { return len(ca.DependsOn) > 0 })
	if _, err := cfg.AddonsFor(c.Metadata.Name); hasOwn && err != nil && strings.Contains(err.Error(), "dependsOn cycle") {
		l.errs.add(doc.at("spec.addons", "remove one of the dependencies (addon.yaml or spec.addons[].dependsOn)", "%v", err))
	}
	for i, ca := range s.Addons {
		a := cfg.Addons[ca.Name]
		if a == nil {
			continue
		}
		for _, dep := range a.Spec.DependsOn {
			if _, ok := index[dep]; !ok && cfg.Addons[dep] != nil {
				l.errs.add(doc.at(fmt.Sprintf("spec.addons[%d].name", i), fmt.Sprintf("add {name: %s} to spec.addons", dep),
					"add-on %q depends on %q, which this cluster does not run", ca.Name, dep))
			}
		}
	}
}

// checkClusterFiles checks clusters/<c>/values/*.yaml and clusters/<c>/kustomize/*/: each must
// belong to an add-on the cluster runs, and values files must be YAML mappings.
func (l *loader) checkClusterFiles(cfg *Config, c *Cluster) error {
	runs := map[string]bool{}
	for _, ca := range c.Spec.Addons {
		runs[ca.Name] = true
	}
	notRun := func(addon string) string {
		return fmt.Sprintf("add {name: %s} to spec.addons in %s, or delete it", addon, c.File)
	}
	valuesDir := path.Join(c.Dir, ClusterValues)
	entries, err := readDir(cfg.FS, valuesDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		file := path.Join(valuesDir, e.Name())
		addon, ok := strings.CutSuffix(e.Name(), ".yaml")
		switch {
		case e.IsDir() || !ok:
			l.errs.fileError(file, "name it <add-on>.yaml", "unexpected entry in %s/", valuesDir)
		case !runs[addon]:
			l.errs.fileError(file, notRun(addon), "values for add-on %q, which cluster %q does not run", addon, c.Metadata.Name)
		default:
			if err := l.checkValuesFile(cfg.FS, file); err != nil {
				return err
			}
		}
	}
	kustDir := path.Join(c.Dir, KustomizeDir)
	if entries, err = readDir(cfg.FS, kustDir); err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && !runs[e.Name()] {
			l.errs.fileError(path.Join(kustDir, e.Name()), notRun(e.Name()),
				"overlay for add-on %q, which cluster %q does not run", e.Name(), c.Metadata.Name)
		}
	}
	return nil
}

// readDir lists dir without dot-files; nil when it does not exist.
func readDir(fsys fs.FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name()[0] == '.' }), nil
}

// checkValuesFile checks that a values file, when present, is a YAML mapping (or empty).
func (l *loader) checkValuesFile(fsys fs.FS, file string) error {
	fi, err := fs.Stat(fsys, file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case l.outside(file, err):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", file, err)
	case fi.Size() > l.maxFile:
		return nil // checkPaths reports it; do not read it
	}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	root, perr := parseYAML(file, data)
	switch {
	case perr != nil:
		l.errs.add(perr)
	case root == nil || isNull(root):
	case root.Kind != yaml.MappingNode:
		l.errs.add(&Error{
			File: file, Line: root.Line, Column: root.Column,
			Message: "values must be a YAML mapping, got " + describe(root),
		})
	default:
		var m map[string]any
		if err := root.Decode(&m); err != nil {
			l.errs.add(yamlSyntaxError(file, err))
		}
	}
	return nil
}

// checkCycles reports each dependsOn cycle once, at the add-on with the smallest name in it.
func (l *loader) checkCycles(cfg *Config) {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	reported := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		state[name] = onStack
		stack = append(stack, name)
		for _, dep := range cfg.Addons[name].Spec.DependsOn {
			if cfg.Addons[dep] == nil || dep == name {
				continue
			}
			switch state[dep] {
			case unvisited:
				visit(dep)
			case onStack:
				l.reportCycle(cfg, stack[slices.Index(stack, dep):], reported)
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, name := range cfg.AddonNames() {
		if state[name] == unvisited {
			visit(name)
		}
	}
}

func (l *loader) reportCycle(cfg *Config, cycle []string, reported map[string]bool) {
	start := slices.Index(cycle, slices.Min(cycle))
	cycle = append(slices.Clone(cycle[start:]), cycle[:start]...)
	key := strings.Join(cycle, " -> ")
	if reported[key] {
		return
	}
	reported[key] = true
	first, next := cycle[0], cycle[1%len(cycle)]
	i := slices.Index(cfg.Addons[first].Spec.DependsOn, next)
	l.errs.add(l.addonDoc[first].at(fmt.Sprintf("spec.dependsOn[%d]", i), "remove one of these dependencies",
		"dependency cycle: %s -> %s", key, first))
}
