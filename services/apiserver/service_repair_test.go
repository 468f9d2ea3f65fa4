package apiserver_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
)

// TestServiceAllocationsSurviveRestart: an apiserver restarted on the same etcd data never
// hands out an IP or node port a Service already holds, and one restarted with another range
// keeps the Services of the old one.
func TestServiceAllocationsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	rng := ipalloc.MustParseRange("10.100.0.0/28") // 12 allocatable addresses
	first := apiservertest.StartWith(t, apiservertest.Options{DataDir: dir, ServiceClusterIPRange: rng})
	ctx := ctxT(t)
	services := corev1.NewServiceServiceClient(dial(t, first.Addr).Conn())
	held := map[string]string{}
	for i := range 6 {
		s, err := services.Create(ctx, svc(fmt.Sprintf("old%d", i), ""))
		if err != nil {
			t.Fatal(err)
		}
		held[s.GetSpec().GetClusterIp()] = s.GetMetadata().GetName()
	}
	np, err := services.Create(ctx, svc("np", "NodePort"))
	if err != nil {
		t.Fatal(err)
	}
	held[np.GetSpec().GetClusterIp()] = "np"
	first.Stop()

	second := apiservertest.StartWith(t, apiservertest.Options{DataDir: dir, ServiceClusterIPRange: rng})
	services = corev1.NewServiceServiceClient(dial(t, second.Addr).Conn())
	_, err = services.Create(ctx, svc("np2", "NodePort", &corev1.ServicePort{Port: 80, NodePort: np.GetSpec().GetPorts()[0].GetNodePort()}))
	wantInvalid(t, err, "provided port is already allocated")
	for i := range 12 - len(held) {
		s, err := services.Create(ctx, svc(fmt.Sprintf("new%d", i), ""))
		if err != nil {
			t.Fatalf("create new%d: %v", i, err)
		}
		if owner, ok := held[s.GetSpec().GetClusterIp()]; ok {
			t.Fatalf("new%d got %s, which %s holds", i, s.GetSpec().GetClusterIp(), owner)
		}
		held[s.GetSpec().GetClusterIp()] = s.GetMetadata().GetName()
	}
	if _, err := services.Create(ctx, svc("full", "")); !kerrors.IsInternalError(err) || !strings.Contains(err.Error(), "range is full") {
		t.Fatalf("create in a full range after restart: %v", err)
	}
	second.Stop()

	// Another range: the old Services keep their IPs, new ones come from the new range.
	newRange := ipalloc.MustParseRange("10.200.0.0/24")
	third := apiservertest.StartWith(t, apiservertest.Options{DataDir: dir, ServiceClusterIPRange: newRange})
	services = corev1.NewServiceServiceClient(dial(t, third.Addr).Conn())
	old, err := services.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "old0"})
	if err != nil || held[old.GetSpec().GetClusterIp()] != "old0" {
		t.Fatalf("old0 after a range change: %v, %v", old.GetSpec().GetClusterIp(), err)
	}
	upd := proto.Clone(old).(*corev1.Service)
	upd.Spec.Ports[0].Port = 8080
	if upd, err = services.Update(ctx, upd); err != nil || upd.GetSpec().GetClusterIp() != old.GetSpec().GetClusterIp() {
		t.Fatalf("update of a Service from the old range: %v, %v", upd.GetSpec().GetClusterIp(), err)
	}
	s, err := services.Create(ctx, svc("in-new-range", ""))
	if err != nil {
		t.Fatal(err)
	}
	if ip := s.GetSpec().GetClusterIp(); !strings.HasPrefix(ip, "10.200.0.") {
		t.Errorf("new Service got %s, outside %s", ip, newRange)
	}
	_, err = services.Create(ctx, withIP(svc("old-ip", ""), old.GetSpec().GetClusterIp()))
	wantInvalid(t, err, "The range of valid IPs is 10.200.0.0/24")
}

// TestServiceRepair: at start the apiserver records again what Services hold and the
// allocations lost, and frees allocations no Service holds (but not one made an instant ago,
// which may belong to a create on its way).
func TestServiceRepair(t *testing.T) {
	dir := t.TempDir()
	first := apiservertest.StartWith(t, apiservertest.Options{DataDir: dir})
	ctx := ctxT(t)
	services := corev1.NewServiceServiceClient(dial(t, first.Addr).Conn())
	a, err := services.Create(ctx, svc("a", "NodePort"))
	if err != nil {
		t.Fatal(err)
	}
	ip, port := a.GetSpec().GetClusterIp(), fmt.Sprint(a.GetSpec().GetPorts()[0].GetNodePort())
	stale := `{"owner":"default/gone","time":"2000-01-01T00:00:00Z"}`
	fresh := fmt.Sprintf(`{"owner":"default/coming","time":%q}`, time.Now().UTC().Format(time.RFC3339Nano))
	for key, val := range map[string]string{
		ipalloc.Prefix + "10.96.5.5":      stale,
		portalloc.Prefix + "31111":        stale,
		ipalloc.Prefix + "10.96.5.6":      fresh,
		ipalloc.Prefix + "192.168.0.1":    stale, // from another range
		portalloc.Prefix + "not-a-port":   stale,
		ipalloc.Prefix + "also-not-an-ip": "garbage",
	} {
		if _, err := first.Etcd.Put(ctx, key, val); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{ipalloc.Prefix + ip, portalloc.Prefix + port} {
		if _, err := first.Etcd.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	first.Stop()

	second := apiservertest.StartWith(t, apiservertest.Options{DataDir: dir})
	for key, want := range map[string]bool{
		ipalloc.Prefix + ip:               true,
		portalloc.Prefix + port:           true,
		ipalloc.Prefix + "10.96.5.6":      true,
		ipalloc.Prefix + "10.96.5.5":      false,
		portalloc.Prefix + "31111":        false,
		ipalloc.Prefix + "192.168.0.1":    false,
		portalloc.Prefix + "not-a-port":   false,
		ipalloc.Prefix + "also-not-an-ip": false,
	} {
		resp, err := second.Etcd.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(resp.Kvs) == 1; got != want {
			t.Errorf("after repair, %s recorded: %v, want %v", key, got, want)
		}
	}
	services = corev1.NewServiceServiceClient(dial(t, second.Addr).Conn())
	_, err = services.Create(ctx, withIP(svc("b", ""), ip))
	wantInvalid(t, err, "provided IP is already allocated")
	if _, err := services.Create(ctx, withIP(svc("c", ""), "10.96.5.5")); err != nil {
		t.Fatalf("IP freed by the repair not allocatable: %v", err)
	}
}
