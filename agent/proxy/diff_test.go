package proxy

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestDiffPorts(t *testing.T) {
	a, b, c := key("10.96.0.1:80", "TCP"), key("10.96.0.2:80", "TCP"), key("10.96.0.2:80", "UDP")
	t1 := Target{Service: "default/a:80", Endpoints: []netip.AddrPort{ap("172.18.0.2:80")}}
	t2 := Target{Service: "default/a:80", Endpoints: []netip.AddrPort{ap("172.18.0.2:80"), ap("172.18.0.3:80")}}
	t3 := t1
	t3.Affinity = 5
	tests := []struct {
		name              string
		running, desired  map[Key]Target
		add, update, remv []Key
	}{
		{name: "nothing", running: map[Key]Target{}, desired: map[Key]Target{}},
		{name: "all new", running: nil, desired: map[Key]Target{b: t1, a: t1}, add: []Key{a, b}},
		{name: "unchanged", running: map[Key]Target{a: t1}, desired: map[Key]Target{a: t1}},
		{name: "endpoints changed", running: map[Key]Target{a: t1}, desired: map[Key]Target{a: t2}, update: []Key{a}},
		{name: "affinity changed", running: map[Key]Target{a: t1}, desired: map[Key]Target{a: t3}, update: []Key{a}},
		{
			name:    "protocols are distinct sockets",
			running: map[Key]Target{a: t1, b: t1}, desired: map[Key]Target{c: t1, a: t1},
			add: []Key{c}, remv: []Key{b},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffPorts(tt.running, tt.desired)
			want := portChanges{add: tt.add, update: tt.update, remove: tt.remv}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("diffPorts = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDiffAddrs(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name        string
		have        []netip.Addr
		want        map[netip.Addr]bool
		add, remove []netip.Addr
	}{
		{name: "empty"},
		{
			name: "adds the missing, removes the unwanted inside the range only",
			have: []netip.Addr{ip("127.0.0.1"), ip("10.96.0.5"), ip("10.96.0.10"), ip("10.97.0.1"), ip("192.168.1.1")},
			want: map[netip.Addr]bool{ip("10.96.0.10"): true, ip("10.96.1.1"): true, ip("10.96.0.2"): true},
			add:  []netip.Addr{ip("10.96.0.2"), ip("10.96.1.1")}, remove: []netip.Addr{ip("10.96.0.5")},
		},
		{
			name: "a wanted address outside the range is not added",
			want: map[netip.Addr]bool{ip("10.200.0.1"): true},
		},
		{
			name:   "shutdown: nothing wanted",
			have:   []netip.Addr{ip("10.96.0.5"), ip("10.96.0.10"), ip("127.0.0.1")},
			remove: []netip.Addr{ip("10.96.0.5"), ip("10.96.0.10")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add, remove := diffAddrs(tt.have, tt.want, testRange)
			if !reflect.DeepEqual(add, tt.add) || !reflect.DeepEqual(remove, tt.remove) {
				t.Errorf("diffAddrs = add %v remove %v, want add %v remove %v", add, remove, tt.add, tt.remove)
			}
		})
	}
}
