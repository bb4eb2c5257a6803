package lab

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const syncWave = "argocd.argoproj.io/sync-wave"

// Wave is the objects of one sync wave, in output order.
type Wave struct {
	Number  int
	Objects []*unstructured.Unstructured
}

// Waves groups objs by their sync-wave annotation (0 where none), in
// ascending order, as Argo CD sorts them.
func Waves(objs []*unstructured.Unstructured) ([]Wave, error) {
	byWave := map[int][]*unstructured.Unstructured{}
	for _, o := range objs {
		w := 0
		if s, ok := o.GetAnnotations()[syncWave]; ok {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("%s %s: sync-wave %q: %w", o.GetKind(), o.GetName(), s, err)
			}
			w = n
		}
		byWave[w] = append(byWave[w], o)
	}
	var out []Wave
	for n, os := range byWave {
		out = append(out, Wave{n, os})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// ApplyOptions tune ApplyStack.
type ApplyOptions struct {
	// Skip names kinds whose health the lab cannot bring about (e.g.
	// Certificate before cert-manager runs in the lab): applied, not waited
	// for.
	SkipHealth map[string]string // kind -> why
	Timeout    time.Duration     // per wave (default 3 min)
}

// ApplyStack applies objs wave by wave with server-side apply under Argo
// CD's field manager, and before the next wave waits until every object of
// the wave is healthy by Argo CD's rules (Health below), as a sync does.
// It returns how long each wave took.
func (l *Lab) ApplyStack(objs []*unstructured.Unstructured, opts ApplyOptions) []time.Duration {
	l.t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 3 * time.Minute
	}
	waves, err := Waves(objs)
	if err != nil {
		l.t.Fatal(err)
	}
	var took []time.Duration
	for _, w := range waves {
		start := time.Now()
		for _, o := range w.Objects {
			if err := l.API.ApplyAs(l.Ctx(), o, FieldManager); err != nil {
				l.t.Fatalf("wave %d: apply %s %s/%s: %v", w.Number, o.GetKind(), o.GetNamespace(), o.GetName(), err)
			}
		}
		for _, o := range w.Objects {
			if why, skip := opts.SkipHealth[o.GetKind()]; skip {
				l.Logf("wave %d: %s %s applied, health not awaited: %s", w.Number, o.GetKind(), o.GetName(), why)
				continue
			}
			l.Eventually(fmt.Sprintf("wave %d: %s %s/%s healthy", w.Number, o.GetKind(), o.GetNamespace(), o.GetName()),
				opts.Timeout, func() string { return l.Health(o) })
		}
		took = append(took, time.Since(start))
		l.Logf("wave %d: %d objects applied and healthy in %s", w.Number, len(w.Objects), time.Since(start).Round(100*time.Millisecond))
	}
	return took
}

// Health reads the live object and says why it is not healthy yet ("" when
// it is), by the rules of Argo CD's built-in health checks for the kinds
// the stack has: workloads rolled out and ready, PVCs bound, Ingresses with
// a load-balancer address, everything else healthy once it exists.
func (l *Lab) Health(o *unstructured.Unstructured) string {
	res, err := l.API.Resource(o)
	if err != nil {
		return err.Error()
	}
	live, err := res.Get(l.Ctx(), o.GetName(), metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	i := func(path ...string) int64 {
		v, _, _ := unstructured.NestedInt64(live.Object, path...)
		return v
	}
	gen := live.GetGeneration()
	switch o.GetKind() {
	case "StatefulSet":
		want := i("spec", "replicas")
		if i("status", "observedGeneration") < gen || i("status", "readyReplicas") < want || i("status", "updatedReplicas") < want {
			return fmt.Sprintf("ready %d/%d, updated %d", i("status", "readyReplicas"), want, i("status", "updatedReplicas"))
		}
	case "Deployment":
		want := i("spec", "replicas")
		if i("status", "observedGeneration") < gen || i("status", "availableReplicas") < want || i("status", "updatedReplicas") < want {
			return fmt.Sprintf("available %d/%d", i("status", "availableReplicas"), want)
		}
	case "DaemonSet":
		want := i("status", "desiredNumberScheduled")
		if i("status", "observedGeneration") < gen || want == 0 || i("status", "numberAvailable") < want {
			return fmt.Sprintf("available %d/%d", i("status", "numberAvailable"), want)
		}
	case "PersistentVolumeClaim":
		if p, _, _ := unstructured.NestedString(live.Object, "status", "phase"); p != "Bound" {
			return "phase " + p
		}
	case "Ingress":
		lb, _, _ := unstructured.NestedSlice(live.Object, "status", "loadBalancer", "ingress")
		if len(lb) == 0 {
			return "no status.loadBalancer.ingress (Traefik has not published it)"
		}
	case "Namespace":
		if p, _, _ := unstructured.NestedString(live.Object, "status", "phase"); p != "Active" {
			return "phase " + p
		}
	case "Certificate", "ClusterIssuer", "Issuer":
		// Argo CD's checks for cert-manager's kinds: healthy once Ready
		// (a ClusterIssuer is Ready once its ACME account is registered).
		if c := Condition(live, "Ready"); c != nil && c["status"] == "True" {
			return ""
		}
		conds, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
		return fmt.Sprintf("not Ready: %v", conds)
	}
	return ""
}

// Condition is obj's status condition of type typ (nil when it has none).
func Condition(obj *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if c, ok := c.(map[string]any); ok && c["type"] == typ {
			return c
		}
	}
	return nil
}

// Kinds lists the kinds of objs ("Kind name" lines), for messages.
func Kinds(objs []*unstructured.Unstructured) string {
	var lines []string
	for _, o := range objs {
		lines = append(lines, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
	}
	return strings.Join(lines, "\n")
}
