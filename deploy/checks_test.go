package deploy_test

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

const (
	tokenSecret = "github-token"
	tokenFlag   = "--github-token-file"
	// completionIndexAnnotation is where the Job controller writes a pod's completion index.
	completionIndexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
)

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func checkContainer(t *testing.T, w workload, c corev1.Container) {
	t.Helper()
	subject := fmt.Sprintf("%s container %s", w.name, c.Name)
	psc := w.pod.SecurityContext
	sc := c.SecurityContext
	if sc == nil {
		t.Fatalf("%s: no securityContext", subject)
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	if !nonRoot {
		t.Errorf("%s: runAsNonRoot must be true", subject)
	}
	uid := sc.RunAsUser
	if uid == nil && psc != nil {
		uid = psc.RunAsUser
	}
	if uid == nil || *uid != 65532 {
		t.Errorf("%s: runAsUser %v, want 65532 (distroless nonroot)", subject, uid)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem must be true", subject)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation must be false", subject)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", subject)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities %+v, want drop [ALL] and no add", subject, sc.Capabilities)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil && psc != nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile %+v, want RuntimeDefault", subject, seccomp)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim {
			t.Errorf("%s: %s request and limit must both be set (requests %v, limits %v)", subject, r, c.Resources.Requests, c.Resources.Limits)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s above limit %s", subject, r, req.String(), lim.String())
		}
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/addonsync/addonsync:v") && !strings.Contains(c.Image, "@sha256:") {
		t.Errorf("%s: image %q is neither a release tag nor a digest", subject, c.Image)
	}
}

func checkToken(t *testing.T, w workload) {
	t.Helper()
	var tokenVolume *corev1.Volume
	for i, v := range w.pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == tokenSecret {
			tokenVolume = &w.pod.Volumes[i]
		}
	}
	if tokenVolume == nil {
		t.Fatalf("%s: no volume from Secret %s", w.name, tokenSecret)
	}
	for _, c := range w.pod.Containers {
		subject := fmt.Sprintf("%s container %s", w.name, c.Name)
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				t.Errorf("%s: env %s comes from Secret %s: secrets are mounted as files, never env vars", subject, e.Name, e.ValueFrom.SecretKeyRef.Name)
			}
			if strings.Contains(strings.ToUpper(e.Name), "TOKEN") {
				t.Errorf("%s: env %s looks like a token: pass --github-token-file instead", subject, e.Name)
			}
		}
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				t.Errorf("%s: envFrom Secret %s: secrets are mounted as files, never env vars", subject, ef.SecretRef.Name)
			}
		}
		for _, a := range c.Args {
			if strings.HasPrefix(a, "--github-token=") || a == "--github-token" {
				t.Errorf("%s: arg %q puts the token on the command line (visible in ps)", subject, a)
			}
		}
		file, ok := flagValue(c.Args, tokenFlag)
		if !ok {
			t.Errorf("%s: args %q lack %s", subject, c.Args, tokenFlag)
			continue
		}
		var mount *corev1.VolumeMount
		for i, m := range c.VolumeMounts {
			if m.Name == tokenVolume.Name {
				mount = &c.VolumeMounts[i]
			}
		}
		if mount == nil {
			t.Errorf("%s: volume %s not mounted", subject, tokenVolume.Name)
			continue
		}
		if !mount.ReadOnly {
			t.Errorf("%s: token mount %s must be readOnly", subject, mount.MountPath)
		}
		var want []string
		for _, it := range tokenVolume.Secret.Items {
			if it.Key == "token" {
				want = append(want, path.Join(mount.MountPath, it.Path))
			}
		}
		if len(tokenVolume.Secret.Items) == 0 {
			want = append(want, path.Join(mount.MountPath, "token"))
		}
		if !slices.Contains(want, file) {
			t.Errorf("%s: %s=%s, but the Secret's key token is mounted at %v", subject, tokenFlag, file, want)
		}
	}
	if m := tokenVolume.Secret.DefaultMode; m == nil || *m&0o007 != 0 {
		t.Errorf("%s: token volume defaultMode %v must not be world-readable", w.name, m)
	}
	if psc := w.pod.SecurityContext; psc == nil || psc.FSGroup == nil {
		t.Errorf("%s: no fsGroup: the non-root user cannot read the mounted token", w.name)
	}
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkArgVars: Kubernetes leaves $(VAR) unexpanded, silently, when VAR is not in the
// container's env, so addonsync would get a literal "$(JOB_COMPLETION_INDEX)".
func checkArgVars(t *testing.T, w workload) {
	t.Helper()
	for _, c := range w.pod.Containers {
		declared := map[string]bool{}
		for _, e := range c.Env {
			declared[e.Name] = true
		}
		for _, a := range append(slices.Clone(c.Command), c.Args...) {
			for _, m := range varRef.FindAllStringSubmatch(a, -1) {
				if !declared[m[1]] {
					t.Errorf("%s container %s: arg %q uses $(%s), which its env does not declare", w.name, c.Name, a, m[1])
				}
			}
		}
	}
}

func checkWritable(t *testing.T, w workload) {
	t.Helper()
	emptyDirs := map[string]bool{}
	for _, v := range w.pod.Volumes {
		if v.EmptyDir != nil {
			emptyDirs[v.Name] = true
			if v.EmptyDir.SizeLimit == nil {
				t.Errorf("%s: emptyDir %s has no sizeLimit", w.name, v.Name)
			}
		}
	}
	for _, c := range w.pod.Containers {
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		workDir, _ := flagValue(c.Args, "--work-dir")
		paths := map[string]string{"/tmp": "/tmp", "XDG_CACHE_HOME": env["XDG_CACHE_HOME"], "HOME": env["HOME"], "--work-dir": workDir}
		for what, p := range paths {
			if p == "" {
				t.Errorf("%s container %s: %s not set", w.name, c.Name, what)
				continue
			}
			onEmptyDir := false
			for _, m := range c.VolumeMounts {
				if emptyDirs[m.Name] && (p == m.MountPath || strings.HasPrefix(p, m.MountPath+"/")) {
					onEmptyDir = true
				}
			}
			if !onEmptyDir {
				t.Errorf("%s container %s: %s=%s is not on an emptyDir; the root filesystem is read-only", w.name, c.Name, what, p)
			}
		}
	}
}

func checkKubeconfigRBAC(t *testing.T, objs objects) {
	t.Helper()
	var secrets []string
	for _, o := range objs.ofKind("Secret") {
		if strings.HasPrefix(o.GetName(), "kubeconfig-") {
			secrets = append(secrets, o.GetName())
		}
	}
	if len(secrets) == 0 {
		t.Fatal("no kubeconfig-<cluster> Secret templates")
	}
	var readable []string
	for _, o := range objs.ofKind("Role") {
		r := typed[rbacv1.Role](t, o)
		for _, rule := range r.Rules {
			coversSecrets := slices.Contains(rule.Resources, "secrets") || slices.Contains(rule.Resources, "*")
			if !slices.Contains(rule.APIGroups, "") || !coversSecrets {
				continue
			}
			if len(rule.ResourceNames) == 0 {
				t.Errorf("Role/%s: secrets rule without resourceNames reads every Secret of the namespace", r.Name)
			}
			if !slices.Equal(rule.Verbs, []string{"get"}) {
				t.Errorf("Role/%s: secrets verbs %v, want [get] (no list or watch: they ignore resourceNames)", r.Name, rule.Verbs)
			}
			readable = append(readable, rule.ResourceNames...)
		}
	}
	for _, s := range secrets {
		if !slices.Contains(readable, s) {
			t.Errorf("Secret/%s: no Role lets addonsync get it; add it to resourceNames in base/rbac.yaml", s)
		}
	}
	for _, o := range objs.ofKind("ClusterRoleBinding") {
		b := typed[rbacv1.ClusterRoleBinding](t, o)
		if b.RoleRef.Name != "addonsync-workspace-target" {
			t.Errorf("ClusterRoleBinding/%s: only addonsync-workspace-target is bound cluster-wide, got role %s", b.Name, b.RoleRef.Name)
		}
	}
}

func checkPlaceholders(t *testing.T, objs objects) {
	t.Helper()
	for _, o := range objs.ofKind("Secret") {
		s := typed[corev1.Secret](t, o)
		if len(s.Data)+len(s.StringData) == 0 {
			t.Errorf("Secret/%s: no keys", s.Name)
		}
		for k, v := range s.StringData {
			if !strings.HasPrefix(v, "REPLACE-ME") {
				t.Errorf("Secret/%s key %s: not a REPLACE-ME placeholder; real values never go in deploy/", s.Name, k)
			}
		}
		for k := range s.Data {
			t.Errorf("Secret/%s key %s: data set; templates use REPLACE-ME stringData only", s.Name, k)
		}
	}
}

func checkCronJob(t *testing.T, cj *batchv1.CronJob, indexed bool) {
	t.Helper()
	subject := "CronJob/" + cj.Name
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("%s: concurrencyPolicy %q, want Forbid", subject, cj.Spec.ConcurrencyPolicy)
	}
	if _, err := cron.ParseStandard(cj.Spec.Schedule); err != nil {
		t.Errorf("%s: schedule %q: %v", subject, cj.Spec.Schedule, err)
	}
	if cj.Spec.StartingDeadlineSeconds == nil {
		t.Errorf("%s: startingDeadlineSeconds not set", subject)
	}
	if cj.Spec.SuccessfulJobsHistoryLimit == nil || cj.Spec.FailedJobsHistoryLimit == nil {
		t.Errorf("%s: successful/failedJobsHistoryLimit not set", subject)
	}
	js := cj.Spec.JobTemplate.Spec
	if js.ActiveDeadlineSeconds == nil {
		t.Errorf("%s: activeDeadlineSeconds not set: a stuck run would block every later one (Forbid)", subject)
	}
	if indexed {
		if js.BackoffLimitPerIndex == nil {
			t.Errorf("%s: backoffLimitPerIndex not set", subject)
		}
	} else if js.BackoffLimit == nil {
		t.Errorf("%s: backoffLimit not set", subject)
	}
	if p := js.Template.Spec.RestartPolicy; p != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never (podFailurePolicy needs it; logs of failed runs kept)", subject, p)
	}
}

func checkShards(t *testing.T, cj *batchv1.CronJob) {
	t.Helper()
	js := cj.Spec.JobTemplate.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode %v, want Indexed", js.CompletionMode)
	}
	if js.Completions == nil || js.Parallelism == nil || *js.Completions != *js.Parallelism {
		t.Errorf("completions %v and parallelism %v must be set and equal: every shard runs at once", js.Completions, js.Parallelism)
	}
	for _, c := range js.Template.Spec.Containers {
		idx, ok := flagValue(c.Args, "--shard-index")
		if !ok || idx != "$(JOB_COMPLETION_INDEX)" {
			t.Errorf("container %s: --shard-index %q, want $(JOB_COMPLETION_INDEX)", c.Name, idx)
		}
		count, _ := flagValue(c.Args, "--shard-count")
		n, err := strconv.Atoi(count)
		if err != nil || js.Completions == nil || int32(n) != *js.Completions {
			t.Errorf("container %s: --shard-count %q must equal completions %v", c.Name, count, js.Completions)
		}
		declared := false
		for _, e := range c.Env {
			if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == completionIndexAnnotation {
				declared = true
			}
		}
		if !declared {
			t.Errorf("container %s: env JOB_COMPLETION_INDEX must come from %s", c.Name, completionIndexAnnotation)
		}
	}
}

func checkDeployment(t *testing.T, objs objects, d *appsv1.Deployment) {
	t.Helper()
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("Deployment/%s: replicas %v, want 1", d.Name, d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("Deployment/%s: strategy %q, want Recreate (never two runners)", d.Name, d.Spec.Strategy.Type)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		listen, ok := flagValue(c.Args, "--listen")
		if !ok {
			t.Fatalf("container %s: no --listen in %q", c.Name, c.Args)
		}
		_, portStr, _ := strings.Cut(listen, ":")
		port, _ := strconv.Atoi(portStr)
		var portName string
		for _, p := range c.Ports {
			if int(p.ContainerPort) == port {
				portName = p.Name
			}
		}
		if portName == "" {
			t.Errorf("container %s: --listen %s but no containerPort %d", c.Name, listen, port)
		}
		if sched, ok := flagValue(c.Args, "--schedule"); !ok {
			t.Errorf("container %s: no --schedule", c.Name)
		} else if _, err := cron.ParseStandard(sched); err != nil {
			t.Errorf("container %s: --schedule %q: %v", c.Name, sched, err)
		}
		for what, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || (p.HTTPGet.Port.String() != portName && p.HTTPGet.Port.IntValue() != port) {
				t.Errorf("container %s: %s probe must GET /healthz on the --listen port %d", c.Name, what, port)
			}
		}
		services := objs.ofKind("Service")
		if len(services) != 1 {
			t.Fatalf("want one Service for /metrics, got %d", len(services))
		}
		svc := typed[corev1.Service](t, services[0])
		for k, v := range svc.Spec.Selector {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("Service/%s: selector %s=%s does not match the pod labels %v", svc.Name, k, v, d.Spec.Template.Labels)
			}
		}
		if len(svc.Spec.Ports) != 1 || (svc.Spec.Ports[0].TargetPort.String() != portName && svc.Spec.Ports[0].TargetPort.IntValue() != port) {
			t.Errorf("Service/%s: ports %+v must target the --listen port %d", svc.Name, svc.Spec.Ports, port)
		}
	}
	if n := len(objs.ofKind("CronJob")); n != 0 {
		t.Errorf("%d CronJob(s) beside the Deployment: every run would happen twice", n)
	}
}
