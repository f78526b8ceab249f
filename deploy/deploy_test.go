// Package deploy_test checks the manifests under deploy/: each kustomization builds, the
// real API server accepts every object (server-side apply with dryRun=All, Pod Security
// "restricted" admission included), and the rules of docs/deploy.md hold: non-root,
// read-only root filesystem, no capabilities, resources set, one run at a time, the GitHub
// token only ever a mounted file, shards wired to the Job's completion index, and only
// flags that addonsync really has.
package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/addonsync/addonsync/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// variant is one kustomization under deploy/ and what kind of workload it runs.
type variant struct {
	// dir is relative to deploy/.
	dir string
	// workload is the kind that runs addonsync: CronJob or Deployment.
	workload string
	// indexed is true for the sharded CronJob (an Indexed Job).
	indexed bool
}

var variants = []variant{
	{dir: ".", workload: "CronJob"},
	{dir: "sharded", workload: "CronJob", indexed: true},
	{dir: "long-running", workload: "Deployment"},
}

// objects is a built kustomization.
type objects []*unstructured.Unstructured

// build runs kustomize (the krusty API that kubectl apply -k uses) on deploy/<dir>.
func build(t *testing.T, dir string) objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(".", dir))
	if err != nil {
		t.Fatalf("deploy/%s: kustomize build failed: %v", dir, err)
	}
	var out objects
	for _, r := range m.Resources() {
		// Through JSON, so numbers are int64 and float64 as client-go expects.
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("deploy/%s: %s: %v", dir, r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatalf("deploy/%s: %s: %v", dir, r.CurId(), err)
		}
		out = append(out, u)
	}
	return out
}

func (objs objects) ofKind(kind string) objects {
	var out objects
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// typed converts an object into its Go type.
func typed[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, v, true); err != nil {
		t.Fatalf("%s/%s: %v", o.GetKind(), o.GetName(), err)
	}
	return v
}

// workload is the pod template that runs addonsync, with the Job spec when it is one.
type workload struct {
	name    string
	cronJob *batchv1.CronJob
	deploy  *appsv1.Deployment
	pod     *corev1.PodSpec
}

func workloads(t *testing.T, objs objects) []workload {
	t.Helper()
	var out []workload
	for _, o := range objs.ofKind("CronJob") {
		cj := typed[batchv1.CronJob](t, o)
		out = append(out, workload{name: "CronJob/" + cj.Name, cronJob: cj, pod: &cj.Spec.JobTemplate.Spec.Template.Spec})
	}
	for _, o := range objs.ofKind("Deployment") {
		d := typed[appsv1.Deployment](t, o)
		out = append(out, workload{name: "Deployment/" + d.Name, deploy: d, pod: &d.Spec.Template.Spec})
	}
	for _, kind := range []string{"Job", "Pod", "StatefulSet", "DaemonSet", "ReplicaSet"} {
		if n := len(objs.ofKind(kind)); n > 0 {
			t.Errorf("%d %s object(s): the checks below only cover CronJobs and Deployments; extend them", n, kind)
		}
	}
	return out
}

func TestKustomizations(t *testing.T) {
	for _, v := range variants {
		t.Run(v.dir, func(t *testing.T) {
			objs := build(t, v.dir)
			ws := workloads(t, objs)
			if len(ws) != 1 || !strings.HasPrefix(ws[0].name, v.workload+"/") {
				var names []string
				for _, w := range ws {
					names = append(names, w.name)
				}
				t.Fatalf("deploy/%s: want exactly one %s running addonsync, got %v", v.dir, v.workload, names)
			}
			w := ws[0]

			t.Run("the API server accepts every object", func(t *testing.T) {
				testServerAccepts(t, objs)
			})
			t.Run("every container is non-root, read-only, without capabilities, with resources", func(t *testing.T) {
				for _, c := range w.pod.Containers {
					checkContainer(t, w, c)
				}
			})
			t.Run("the pod mounts the ServiceAccount token for inCluster", func(t *testing.T) {
				if w.pod.ServiceAccountName != "addonsync" {
					t.Errorf("%s: serviceAccountName %q, want addonsync", w.name, w.pod.ServiceAccountName)
				}
				if a := w.pod.AutomountServiceAccountToken; a == nil || !*a {
					t.Errorf("%s: automountServiceAccountToken must be true (wsp is inCluster)", w.name)
				}
			})
			t.Run("the GitHub token is a mounted file, never an env var or flag value", func(t *testing.T) {
				checkToken(t, w)
			})
			t.Run("every $(VAR) in args is declared in env", func(t *testing.T) {
				checkArgVars(t, w)
			})
			t.Run("the cache and the clone are on writable volumes", func(t *testing.T) {
				checkWritable(t, w)
			})
			t.Run("the kubeconfig Secrets are readable by name only", func(t *testing.T) {
				checkKubeconfigRBAC(t, objs)
			})
			t.Run("the Secrets hold placeholders only", func(t *testing.T) {
				checkPlaceholders(t, objs)
			})
			switch {
			case w.cronJob != nil:
				t.Run("one run at a time, bounded", func(t *testing.T) {
					checkCronJob(t, w.cronJob, v.indexed)
				})
			case w.deploy != nil:
				t.Run("probes, Service and a single replica", func(t *testing.T) {
					checkDeployment(t, objs, w.deploy)
				})
			}
			if v.indexed {
				t.Run("each pod of the Indexed Job syncs its own shard", func(t *testing.T) {
					checkShards(t, w.cronJob)
				})
			}
			t.Run("the args use only flags addonsync has", func(t *testing.T) {
				for _, c := range w.pod.Containers {
					checkFlags(t, w.name, c.Args)
				}
			})
		})
	}
}
