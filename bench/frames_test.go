package main

import (
	"bytes"
	"math"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScanPodEvent(t *testing.T) {
	sent := newPod("ns", "fanout-42")
	sent.Metadata.Annotations[sentAnnotation] = "1700000000123456789"
	tests := []struct {
		name               string
		event              *corev1.PodWatchEvent
		typ, podName, sent string
		hasSent            bool
	}{
		{"a pod with its send time", &corev1.PodWatchEvent{Type: "ADDED", Object: sent}, "ADDED", "fanout-42", "1700000000123456789", true},
		{"a pod without", &corev1.PodWatchEvent{Type: "MODIFIED", Object: newPod("ns", "p")}, "MODIFIED", "p", "", false},
		{"an empty send time", &corev1.PodWatchEvent{Type: "ADDED", Object: &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "e", Annotations: map[string]string{sentAnnotation: ""}}}}, "ADDED", "e", "", true},
		{"a bookmark", &corev1.PodWatchEvent{Type: "BOOKMARK", Object: &corev1.Pod{Metadata: &metav1.ObjectMeta{ResourceVersion: "12"}}}, "BOOKMARK", "", "", false},
		{"nothing", &corev1.PodWatchEvent{}, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := scanPodEvent(mustMarshal(t, tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if string(ev.typ) != tt.typ || string(ev.name) != tt.podName || string(ev.sent) != tt.sent || (ev.sent != nil) != tt.hasSent {
				t.Errorf("scanned type %q name %q sent %q (present %v), want %q %q %q (%v)", ev.typ, ev.name, ev.sent, ev.sent != nil, tt.typ, tt.podName, tt.sent, tt.hasSent)
			}
		})
	}
}

func TestScanPodEventRejectsBrokenInput(t *testing.T) {
	good := mustMarshal(t, &corev1.PodWatchEvent{Type: "ADDED", Object: newPod("ns", "p")})
	for _, b := range [][]byte{good[:len(good)-3], {0x12, 0x05, 0x0a}, {0xff}} {
		if _, err := scanPodEvent(b); err == nil {
			t.Errorf("scanPodEvent(%x) succeeded", b)
		}
	}
}

// FuzzScanPodEvent checks the scanner against protobuf's own decoder: whenever proto.Unmarshal
// accepts the input, the scanner reads the same type, name and annotation.
func FuzzScanPodEvent(f *testing.F) {
	p := newPod("ns", "fanout-7")
	p.Metadata.Annotations[sentAnnotation] = "123"
	for _, ev := range []*corev1.PodWatchEvent{
		{Type: "ADDED", Object: p},
		{Type: "DELETED", Object: newPod("a", "b")},
		{Type: "BOOKMARK", Object: &corev1.Pod{Metadata: &metav1.ObjectMeta{ResourceVersion: "9"}}},
	} {
		f.Add(mustMarshal(f, ev))
	}
	// Repeated fields: the last occurrence wins, messages merge.
	twice := append(mustMarshal(f, &corev1.PodWatchEvent{Type: "ADDED", Object: p}), mustMarshal(f, &corev1.PodWatchEvent{Object: &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "other"}}})...)
	f.Add(twice)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := scanPodEvent(b)
		var want corev1.PodWatchEvent
		if proto.Unmarshal(b, &want) != nil {
			return
		}
		if err != nil {
			t.Fatalf("scanner failed on input protobuf accepts: %v", err)
		}
		wantSent, hasSent := want.GetObject().GetMetadata().GetAnnotations()[sentAnnotation]
		if string(ev.typ) != want.GetType() || string(ev.name) != want.GetObject().GetMetadata().GetName() ||
			string(ev.sent) != wantSent || (ev.sent != nil) != hasSent {
			t.Fatalf("scanned %q %q %q (%v), protobuf says %q %q %q (%v)", ev.typ, ev.name, ev.sent, ev.sent != nil,
				want.GetType(), want.GetObject().GetMetadata().GetName(), wantSent, hasSent)
		}
	})
}

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1700000000123456789", 1700000000123456789, true},
		{strconv.FormatInt(math.MaxInt64, 10), math.MaxInt64, true},
		{"9223372036854775808", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"12a", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseUint([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseUint(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNameSeq(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"fanout-0", 0, true},
		{"fanout-9999", 9999, true},
		{podName("fanout", 123), 123, true},
		{"fanout-", 0, false},
		{"fanout", 0, false},
	}
	for _, tt := range tests {
		got, ok := nameSeq([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("nameSeq(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFrameCodec(t *testing.T) {
	opts := &metav1.ListOptions{Namespace: "ns", ResourceVersion: "0"}
	out, err := frameCodec{}.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Materialize(), mustMarshal(t, opts)) {
		t.Error("Marshal differs from proto.Marshal")
	}
	buf := make([]byte, 0, 4)
	if err := (frameCodec{}).Unmarshal(out, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, mustMarshal(t, opts)) {
		t.Error("Unmarshal did not hand the bytes over")
	}
	if _, err := (frameCodec{}).Marshal("not a message"); err == nil {
		t.Error("Marshal of a string succeeded")
	}
	if err := (frameCodec{}).Unmarshal(out, new(string)); err == nil {
		t.Error("Unmarshal into a string succeeded")
	}
}

func TestTemplatePodIsValidSize(t *testing.T) {
	// The template stands for a typical Pod: about 1 KiB as stored, a little less as sent.
	if n := proto.Size(newPod("default", "checkout-7d9f8c6b5-x2x4z")); n < 700 || n > 1100 {
		t.Errorf("template pod is %d bytes encoded, want about 800-1000", n)
	}
}
