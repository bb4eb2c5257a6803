package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The lab's stand-ins for kube-proxy and cluster DNS, reading the same
// objects they read:
//   - a TCP proxy on every ClusterIP:port (the range is local to the lab
//     namespace) that forwards each connection to a ready endpoint of the
//     Service's EndpointSlices (built by the real controller from the
//     Service's selector and the pods' readiness), by port name;
//   - hosts files that resolve <svc>.<ns>[.svc[.cluster.local]] to the
//     ClusterIP, a headless Service's names to its endpoints' addresses
//     (and <hostname>.<svc>... for StatefulSet pods), and in a pod's own
//     file the bare <svc> names of its namespace.
//
// A Service whose selector matches no ready pod gets no endpoint, and a
// connection to it is closed at once: what a cluster does.
type serviceProxy struct {
	client kubernetes.Interface

	mu        sync.Mutex
	listeners map[string]net.Listener // ip:port
	routes    map[string]svcPort      // ip:port -> service port
	services  []corev1.Service
	slices    []discoveryv1.EndpointSlice
	extra     []string // hosts lines the tests added
	stop      chan struct{}
	done      chan struct{}
}

type svcPort struct {
	namespace, service, port string
}

func startServiceProxy(t testing.TB, client kubernetes.Interface) *serviceProxy {
	p := &serviceProxy{client: client, listeners: map[string]net.Listener{}, routes: map[string]svcPort{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := p.sync(); err != nil {
		t.Fatalf("service proxy: %v", err)
	}
	go p.loop()
	t.Cleanup(func() {
		close(p.stop)
		<-p.done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, l := range p.listeners {
			l.Close()
		}
	})
	return p
}

func (p *serviceProxy) loop() {
	pollLoop(300*time.Millisecond, p.stop, p.done, func() {
		if p.sync() == nil {
			_ = writeIfChanged(hostsFile, p.hostsFor(nil, ""))
		}
	})
}

func (p *serviceProxy) sync() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svcs, err := p.client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	slices, err := p.client.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.services, p.slices = svcs.Items, slices.Items
	want := map[string]svcPort{}
	for _, s := range svcs.Items {
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		for _, sp := range s.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue
			}
			want[net.JoinHostPort(s.Spec.ClusterIP, strconv.Itoa(int(sp.Port)))] = svcPort{s.Namespace, s.Name, sp.Name}
		}
	}
	for addr, l := range p.listeners {
		if _, ok := want[addr]; !ok {
			l.Close()
			delete(p.listeners, addr)
		}
	}
	for addr, route := range want {
		p.routes[addr] = route
		if _, ok := p.listeners[addr]; ok {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s for %s/%s: %w", addr, route.namespace, route.service, err)
		}
		p.listeners[addr] = l
		go p.serve(l, addr)
	}
	return nil
}

func (p *serviceProxy) serve(l net.Listener, addr string) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go p.forward(conn, addr)
	}
}

var rr sync.Map // service port -> round-robin counter

func (p *serviceProxy) forward(conn net.Conn, addr string) {
	defer conn.Close()
	p.mu.Lock()
	route := p.routes[addr]
	eps := p.readyEndpoints(route)
	p.mu.Unlock()
	if len(eps) == 0 {
		return
	}
	n, _ := rr.LoadOrStore(route, new(int))
	i := n.(*int)
	p.mu.Lock()
	target := eps[*i%len(eps)]
	*i++
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", target, 3*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, conn); closeWrite(up) }()
	_, _ = io.Copy(conn, up)
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// readyEndpoints are ip:port of the ready endpoints for a service port
// (p.mu held).
func (p *serviceProxy) readyEndpoints(route svcPort) []string {
	var out []string
	for _, es := range p.slices {
		if es.Namespace != route.namespace || es.Labels[discoveryv1.LabelServiceName] != route.service {
			continue
		}
		port := int32(0)
		for _, ep := range es.Ports {
			if ep.Name != nil && *ep.Name == route.port && ep.Port != nil {
				port = *ep.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				out = append(out, net.JoinHostPort(a, strconv.Itoa(int(port))))
			}
		}
	}
	sort.Strings(out)
	return out
}

func (p *serviceProxy) clusterIP(namespace, name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.services {
		if s.Namespace == namespace && s.Name == name {
			return s.Spec.ClusterIP
		}
	}
	return ""
}

// AddHost makes names resolve to ip in the lab and in every pod.
func (l *Lab) AddHost(ip string, names ...string) {
	l.services.mu.Lock()
	l.services.extra = append(l.services.extra, ip+" "+strings.Join(names, " "))
	l.services.mu.Unlock()
	if err := writeIfChanged(hostsFile, l.services.hostsFor(nil, "")); err != nil {
		l.t.Fatal(err)
	}
}

// hostsFor is the hosts file of a pod (nil: the lab's own).
func (p *serviceProxy) hostsFor(pod *corev1.Pod, podIP string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := []string{strings.TrimSpace(hostsHeader)}
	if pod != nil {
		lines = append(lines, fmt.Sprintf("%s %s", podIP, pod.Name))
	}
	names := func(ns, svc string) string {
		s := fmt.Sprintf("%s.%s %s.%s.svc %s.%s.svc.cluster.local", svc, ns, svc, ns, svc, ns)
		if pod != nil && pod.Namespace == ns {
			s = svc + " " + s
		}
		return s
	}
	for _, s := range p.services {
		if s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
			lines = append(lines, s.Spec.ClusterIP+" "+names(s.Namespace, s.Name))
			continue
		}
		for _, es := range p.slices {
			if es.Namespace != s.Namespace || es.Labels[discoveryv1.LabelServiceName] != s.Name {
				continue
			}
			for _, ep := range es.Endpoints {
				ready := ep.Conditions.Ready == nil || *ep.Conditions.Ready
				if !ready && !s.Spec.PublishNotReadyAddresses {
					continue
				}
				for _, a := range ep.Addresses {
					lines = append(lines, a+" "+names(s.Namespace, s.Name))
					if ep.Hostname != nil {
						h := *ep.Hostname + "." + s.Name
						lines = append(lines, a+" "+names(s.Namespace, h))
					}
				}
			}
		}
	}
	lines = append(lines, p.extra...)
	return strings.Join(lines, "\n") + "\n"
}
