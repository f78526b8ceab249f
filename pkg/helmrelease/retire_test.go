package helmrelease

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// helmList returns the names of the releases `helm list -A -a` shows (every namespace and
// every status).
func helmList(t *testing.T, driver Driver) []string {
	t.Helper()
	var rows []struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	out := mustHelm(t, driver, "list", "-A", "-a", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("helm list -o json: %v\n%s", err, out)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Namespace+"/"+r.Name)
	}
	return names
}

// TestRetire retires real releases and checks with the real helm CLI that they are gone.
func TestRetire(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	chart := chartFile(t, webChart("web", "1.2.3"))
	c := newClients(t)
	r := NewReader(c.kube, c.mapper, DefaultReaderOptions())
	find := func(t *testing.T, name, ns string) *Release {
		t.Helper()
		rel, err := r.Find(ctx, name, ns)
		if err != nil || rel == nil {
			t.Fatalf("Find(%s/%s) = %v, %v", ns, name, rel, err)
		}
		return rel
	}

	t.Run("delete: every revision's record goes, helm list is empty", func(t *testing.T) {
		ns := namespace(t)
		mustHelm(t, "", "install", "web", chart, "-n", ns)
		mustHelm(t, "", "upgrade", "web", chart, "-n", ns, "--set", "replicas=3")
		if diff := cmp.Diff([]string{ns + "/web"}, helmList(t, "")); diff != "" {
			t.Fatalf("helm list before (-want +got):\n%s", diff)
		}
		rel := find(t, "web", ns)
		uid := c.get(t, ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "web-config"}).GetUID()
		c.count.take()
		retired, err := Retire(ctx, c.kube, rel, RetireOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(retired) != 2 {
			t.Errorf("retired %v, want both revisions", retired)
		}
		for _, w := range writes(c.count.take()) {
			if !strings.HasPrefix(w, "DELETE /api/v1/namespaces/"+ns+"/secrets/sh.helm.release.v1.web.v") {
				t.Errorf("unexpected write %s", w)
			}
		}
		if got := helmList(t, ""); len(got) != 0 {
			t.Errorf("helm list -A -a after retire: %v", got)
		}
		if out, err := helm(t, "", "history", "web", "-n", ns); err == nil {
			t.Errorf("helm history still finds the release:\n%s", out)
		}
		if out, err := helm(t, "", "upgrade", "web", chart, "-n", ns); err == nil || !strings.Contains(out, "has no deployed releases") {
			t.Errorf("helm upgrade after retire = %v:\n%s", err, out)
		}
		if got := c.get(t, ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "web-config"}).GetUID(); got != uid {
			t.Errorf("retire touched the release's objects: UID %s -> %s", uid, got)
		}
		if rel, err := r.Find(ctx, "web", ns); rel != nil || err != nil {
			t.Errorf("Find after retire = %v, %v", rel, err)
		}
	})

	t.Run("keep: records stay, labelled, and helm no longer sees them (configmap driver)", func(t *testing.T) {
		ns := namespace(t)
		mustHelm(t, DriverConfigMap, "install", "web", chart, "-n", ns)
		rel := find(t, "web", ns)
		if _, err := Retire(ctx, c.kube, rel, RetireOptions{Keep: true}); err != nil {
			t.Fatal(err)
		}
		if got := helmList(t, DriverConfigMap); len(got) != 0 {
			t.Errorf("HELM_DRIVER=configmap helm list -A -a after retire: %v", got)
		}
		cm, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, recordName("web", 1), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("kept record: %v", err)
		}
		l := cm.Labels
		if _, ok := l[LabelOwner]; ok || l[LabelRetired] != "true" || l[LabelRetiredOwner] != OwnerHelm || l[LabelName] != "web" {
			t.Errorf("kept record labels: %v", l)
		}
		if cm.Data["release"] == "" {
			t.Error("kept record lost its release data")
		}
		if rel, err := r.Find(ctx, "web", ns); rel != nil || err != nil {
			t.Errorf("Find after retire = %v, %v; a retired release is not found again", rel, err)
		}
	})

	t.Run("the other driver and mode: configmap delete, secret keep", func(t *testing.T) {
		ns := namespace(t)
		mustHelm(t, DriverConfigMap, "install", "cm", chart, "-n", ns)
		mustHelm(t, "", "install", "sec", chart, "-n", ns)
		if _, err := Retire(ctx, c.kube, find(t, "cm", ns), RetireOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := Retire(ctx, c.kube, find(t, "sec", ns), RetireOptions{Keep: true}); err != nil {
			t.Fatal(err)
		}
		if got := append(helmList(t, ""), helmList(t, DriverConfigMap)...); len(got) != 0 {
			t.Errorf("helm list -A -a after retire: %v", got)
		}
		if _, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, recordName("cm", 1), metav1.GetOptions{}); err == nil {
			t.Error("the configmap record was not deleted")
		}
		s, err := c.kube.CoreV1().Secrets(ns).Get(ctx, recordName("sec", 1), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("kept secret record: %v", err)
		}
		if s.Labels[LabelRetired] != "true" || s.Labels[LabelOwner] != "" {
			t.Errorf("kept secret record labels %v", s.Labels)
		}
	})

	t.Run("a release upgraded since adoption is not retired", func(t *testing.T) {
		ns := namespace(t)
		mustHelm(t, "", "install", "web", chart, "-n", ns)
		rel := find(t, "web", ns)
		mustHelm(t, "", "upgrade", "web", chart, "-n", ns, "--set", "replicas=5")
		_, err := Retire(ctx, c.kube, rel, RetireOptions{})
		var ce *ChangedError
		if !errors.As(err, &ce) || ce.Revision != 2 {
			t.Fatalf("Retire = %v, want a *ChangedError naming rev 2", err)
		}
		want := "Helm release web in namespace " + ns + ": changed since addonsync adopted rev 1 (now rev 2, deployed): not retired; rerun addonsync sync to adopt it again"
		if err.Error() != want {
			t.Errorf("message\n got: %s\nwant: %s", err, want)
		}
		if diff := cmp.Diff([]string{ns + "/web"}, helmList(t, "")); diff != "" {
			t.Errorf("helm list (-want +got):\n%s", diff)
		}
	})
}
