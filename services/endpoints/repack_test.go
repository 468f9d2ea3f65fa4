package endpoints

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	kv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func ref(uid string) *kv1.ObjectReference { return &kv1.ObjectReference{UID: types.UID(uid)} }

func addrs(ips ...string) []kv1.EndpointAddress {
	out := make([]kv1.EndpointAddress, len(ips))
	for i, ip := range ips {
		out[i] = kv1.EndpointAddress{IP: ip}
	}
	return out
}

func ports(ps ...int32) []kv1.EndpointPort {
	out := make([]kv1.EndpointPort, len(ps))
	for i, p := range ps {
		out[i] = kv1.EndpointPort{Port: p}
	}
	return out
}

// TestRepackSubsets checks the grouping against what Kubernetes' RepackSubsets gives for the
// same input (the expectations of its own tests, which, like these, are put in sorted order
// by the same sort before comparing: the order by hash is not written out by hand).
func TestRepackSubsets(t *testing.T) {
	tests := []struct {
		name        string
		given, want []kv1.EndpointSubset
	}{
		{"nothing", nil, []kv1.EndpointSubset{}},
		{"no addresses", []kv1.EndpointSubset{{Ports: ports(111)}}, []kv1.EndpointSubset{}},
		{"one address, one port",
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111)}},
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111)}}},
		{"no ports (headless)",
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4")}, {Addresses: addrs("1.2.3.3")}},
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.3", "1.2.3.4")}}},
		{"duplicates collapse",
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4", "1.2.3.4"), Ports: ports(111, 111)}},
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111)}}},
		{"not ready wins over ready",
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111)}, {NotReadyAddresses: addrs("1.2.3.4"), Ports: ports(111)}},
			[]kv1.EndpointSubset{{NotReadyAddresses: addrs("1.2.3.4"), Ports: ports(111)}}},
		{"one address, two ports join",
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111)}, {Addresses: addrs("1.2.3.4"), Ports: ports(222)}},
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111, 222)}}},
		{"same IP, two UIDs, sorted by UID, no UID first",
			[]kv1.EndpointSubset{
				{Addresses: []kv1.EndpointAddress{{IP: "1.2.3.4", TargetRef: ref("uid-2")}}, Ports: ports(111)},
				{Addresses: []kv1.EndpointAddress{{IP: "1.2.3.4", TargetRef: ref("uid-1")}}, Ports: ports(111)},
				{Addresses: addrs("1.2.3.4"), Ports: ports(111)},
			},
			[]kv1.EndpointSubset{{Addresses: []kv1.EndpointAddress{
				{IP: "1.2.3.4"}, {IP: "1.2.3.4", TargetRef: ref("uid-1")}, {IP: "1.2.3.4", TargetRef: ref("uid-2")},
			}, Ports: ports(111)}}},
		{"ready on one port, not on another",
			[]kv1.EndpointSubset{
				{Addresses: []kv1.EndpointAddress{{IP: "1.2.3.4", TargetRef: ref("uid-1")}}, Ports: ports(111)},
				{NotReadyAddresses: []kv1.EndpointAddress{{IP: "1.2.3.4", TargetRef: ref("uid-1")}}, Ports: ports(222)},
			},
			[]kv1.EndpointSubset{
				{Addresses: []kv1.EndpointAddress{{IP: "1.2.3.4", TargetRef: ref("uid-1")}}, Ports: ports(111)},
				{NotReadyAddresses: []kv1.EndpointAddress{{IP: "1.2.3.4", TargetRef: ref("uid-1")}}, Ports: ports(222)},
			}},
		{"two addresses, two ports",
			[]kv1.EndpointSubset{{Addresses: addrs("5.6.7.8"), Ports: ports(222)}, {Addresses: addrs("1.2.3.4"), Ports: ports(111)}},
			[]kv1.EndpointSubset{{Addresses: addrs("1.2.3.4"), Ports: ports(111)}, {Addresses: addrs("5.6.7.8"), Ports: ports(222)}}},
		{"four subsets, three addresses, three ports, jumbled",
			[]kv1.EndpointSubset{
				{Addresses: addrs("1.2.3.4"), Ports: ports(111)},
				{Addresses: addrs("1.2.3.5"), Ports: ports(222)},
				{Addresses: addrs("1.2.3.6"), Ports: ports(111)},
				{Addresses: addrs("1.2.3.5"), Ports: ports(333)},
			},
			[]kv1.EndpointSubset{
				{Addresses: addrs("1.2.3.4", "1.2.3.6"), Ports: ports(111)},
				{Addresses: addrs("1.2.3.5"), Ports: ports(222, 333)},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := repackSubsets(tt.given)
			if want := sortSubsets(tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("repackSubsets:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestRepackSubsetsIsStable checks that the order of the input never shows in the output.
func TestRepackSubsetsIsStable(t *testing.T) {
	var given []kv1.EndpointSubset
	for i := range 30 {
		a := kv1.EndpointAddress{IP: fmt.Sprintf("10.0.%d.%d", i%3, i), TargetRef: ref(fmt.Sprintf("uid-%d", i))}
		ss := kv1.EndpointSubset{Ports: []kv1.EndpointPort{{Name: "p" + fmt.Sprint(i%4), Port: int32(8000 + i%4), Protocol: "TCP"}}}
		if i%5 == 0 {
			ss.NotReadyAddresses = []kv1.EndpointAddress{a}
		} else {
			ss.Addresses = []kv1.EndpointAddress{a}
		}
		given = append(given, ss)
	}
	want := repackSubsets(copySubsets(given))
	for range 20 {
		shuffled := copySubsets(given)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := repackSubsets(shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("a shuffled input repacks differently:\n got %+v\nwant %+v", got, want)
		}
	}
}

func copySubsets(ss []kv1.EndpointSubset) []kv1.EndpointSubset {
	out := make([]kv1.EndpointSubset, len(ss))
	for i, s := range ss {
		out[i] = *s.DeepCopy()
	}
	return out
}

func TestTruncate(t *testing.T) {
	many := func(n int) []kv1.EndpointAddress {
		out := make([]kv1.EndpointAddress, n)
		for i := range out {
			out[i] = kv1.EndpointAddress{IP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)}
		}
		return out
	}
	tests := []struct {
		name                  string
		subsets               []kv1.EndpointSubset
		wantCut               bool
		wantReady, wantNotRdy []int
	}{
		{"at capacity", []kv1.EndpointSubset{{Addresses: many(600)}, {NotReadyAddresses: many(400)}}, false, []int{600, 0}, []int{0, 400}},
		{"not ready cut first", []kv1.EndpointSubset{{Addresses: many(900)}, {NotReadyAddresses: many(200)}}, true, []int{900, 0}, []int{0, 100}},
		{"ready cut in proportion", []kv1.EndpointSubset{{Addresses: many(1500), NotReadyAddresses: many(3)}, {Addresses: many(500)}}, true, []int{750, 250}, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(tt.subsets); got != tt.wantCut {
				t.Fatalf("truncate = %v, want %v", got, tt.wantCut)
			}
			for i, ss := range tt.subsets {
				if len(ss.Addresses) != tt.wantReady[i] || len(ss.NotReadyAddresses) != tt.wantNotRdy[i] {
					t.Errorf("subset %d keeps %d ready and %d not ready addresses, want %d and %d",
						i, len(ss.Addresses), len(ss.NotReadyAddresses), tt.wantReady[i], tt.wantNotRdy[i])
				}
			}
		})
	}
}
