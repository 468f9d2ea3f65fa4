package ipalloc

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
		size          uint64
		gateway       string
		dns           string
	}{
		{in: "10.96.0.0/16", want: "10.96.0.0/16", size: 65534, gateway: "10.96.0.1", dns: "10.96.0.10"},
		{in: " 10.96.7.9/16 ", want: "10.96.0.0/16", size: 65534, gateway: "10.96.0.1", dns: "10.96.0.10"},
		{in: "172.16.0.0/12", want: "172.16.0.0/12", size: 1<<20 - 2, gateway: "172.16.0.1", dns: "172.16.0.10"},
		{in: "192.168.5.16/28", want: "192.168.5.16/28", size: 14, gateway: "192.168.5.17", dns: "192.168.5.26"},
		{in: "", err: "must be a CIDR"},
		{in: "10.96.0.0", err: "must be a CIDR"},
		{in: "10.96.0.0/33", err: "must be a CIDR"},
		{in: "fd00::/108", err: "IPv4 service ranges only"},
		{in: "::ffff:10.0.0.0/120", err: "IPv4 service ranges only"},
		{in: "10.0.0.0/8", err: "too large"},
		{in: "10.0.0.0/29", err: "too small"},
	} {
		r, err := ParseRange(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRange(%q) = %v, %v; want error with %q", tc.in, r, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.want || r.Size() != tc.size || r.Gateway().String() != tc.gateway || r.DNS().String() != tc.dns {
			t.Errorf("ParseRange(%q) = %s size %d gateway %s dns %s; want %s %d %s %s",
				tc.in, r, r.Size(), r.Gateway(), r.DNS(), tc.want, tc.size, tc.gateway, tc.dns)
		}
	}
}

func TestDNS(t *testing.T) {
	if a, err := DNS(DefaultRange); err != nil || a.String() != "10.96.0.10" {
		t.Errorf("DNS(%s) = %v, %v; want 10.96.0.10", DefaultRange, a, err)
	}
	if _, err := DNS("nonsense"); err == nil {
		t.Error("DNS(nonsense): no error")
	}
}

func TestRangeOffsets(t *testing.T) {
	r := MustParseRange("10.1.2.0/24")
	for _, tc := range []struct {
		addr string
		in   bool
		off  uint64
	}{
		{"10.1.2.0", false, 0}, // network
		{"10.1.2.1", true, 0},
		{"10.1.2.10", true, 9},
		{"10.1.2.254", true, 253},
		{"10.1.2.255", false, 0}, // broadcast
		{"10.1.3.1", false, 0},
		{"::ffff:10.1.2.7", true, 6},
		{"fd00::1", false, 0},
	} {
		off, ok := r.offset(netip.MustParseAddr(tc.addr))
		if ok != tc.in || (ok && off != tc.off) {
			t.Errorf("offset(%s) = %d, %v; want %d, %v", tc.addr, off, ok, tc.off, tc.in)
		}
		if ok && r.addr(off) != netip.MustParseAddr(tc.addr).Unmap() {
			t.Errorf("addr(offset(%s)) = %s", tc.addr, r.addr(off))
		}
	}
}

func TestStaticBand(t *testing.T) {
	for _, tc := range []struct {
		cidr string
		want uint64
	}{
		{"10.0.0.0/28", 0},   // 14 addresses
		{"10.0.0.0/27", 16},  // 30
		{"10.0.0.0/20", 255}, // 4094/16
		{"10.96.0.0/16", 256},
	} {
		if got := MustParseRange(tc.cidr).staticBand(); got != tc.want {
			t.Errorf("staticBand(%s) = %d, want %d", tc.cidr, got, tc.want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10.96.0.0/16", "10.0.0.0/28", "fd00::/64", "1.2.3.4", "", "0.0.0.0/0", "255.255.255.240/28"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid service cluster IP range") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
			return
		}
		p := r.Prefix()
		if !p.Addr().Is4() || p.Bits() < minPrefixBits || p.Bits() > maxPrefixBits || p != p.Masked() {
			t.Fatalf("ParseRange(%q) accepted %s", s, p)
		}
		if !r.Contains(r.Gateway()) || !r.Contains(r.DNS()) || r.Contains(p.Addr()) {
			t.Fatalf("range %s: gateway %s, DNS %s", r, r.Gateway(), r.DNS())
		}
		last := r.addr(r.Size() - 1)
		if off, ok := r.offset(last); !ok || off != r.Size()-1 || r.Contains(last.Next()) {
			t.Fatalf("range %s: last address %s", r, last)
		}
		if again, err := ParseRange(r.String()); err != nil || again != r {
			t.Fatalf("ParseRange(%s) does not round-trip: %v, %v", r, again, err)
		}
	})
}
