package portalloc

import (
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "30000-32767", want: "30000-32767"},
		{in: "30000+2767", want: "30000-32767"},
		{in: "8080", want: "8080-8080"},
		{in: "", err: "must not be empty"},
		{in: "0-100", err: "ports start at 1"},
		{in: "32767-30000", err: "end port cannot be less than start port"},
		{in: "30000-70000", err: "cannot be greater than 65535"},
		{in: "a-b", err: "invalid service node port range"},
		{in: "1-2-3", err: "invalid service node port range"},
	} {
		r, err := ParseRange(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRange(%q) = %v, %v; want error with %q", tc.in, r, err, tc.err)
			}
			continue
		}
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseRange(%q) = %s, %v; want %s", tc.in, r, err, tc.want)
		}
	}
}

func TestStaticBand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"30000-30009", 0},
		{"30000-30099", 16},
		{"30000-32767", 86},
		{"20000-32767", 128},
	} {
		if got := MustParseRange(tc.in).staticBand(); got != tc.want {
			t.Errorf("staticBand(%s) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"30000-32767", "30000+2767", "80", "", "-1", "0-0", "65535", "1+65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid service node port range") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
			return
		}
		if r.Base < 1 || r.Size < 1 || r.Base+r.Size-1 > 65535 {
			t.Fatalf("ParseRange(%q) accepted %+v", s, r)
		}
		if again, err := ParseRange(r.String()); err != nil || again != r {
			t.Fatalf("ParseRange(%s) does not round-trip: %v, %v", r, again, err)
		}
	})
}
