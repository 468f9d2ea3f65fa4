package logexec

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func TestChunkWriterLimit(t *testing.T) {
	tests := []struct {
		name   string
		limit  int64
		writes []string
		want   string
		full   bool
	}{
		{"no limit", -1, []string{"ab", "cd", "ef"}, "abcdef", false},
		{"inside one write", 3, []string{"abcdef"}, "abc", true},
		{"across writes", 5, []string{"ab", "cd", "ef", "gh"}, "abcde", true},
		{"exactly at a write's end", 4, []string{"ab", "cd", "ef"}, "abcd", true},
		{"zero", 0, []string{"ab"}, "", true},
		{"not reached", 10, []string{"ab", "cd"}, "abcd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got strings.Builder
			chunks := 0
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &chunkWriter{limit: tt.limit, cancel: cancel, send: func(c *corev1.PodLogChunk) error {
				chunks++
				got.Write(c.GetData())
				return nil
			}}
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				if err != nil {
					if !errors.Is(err, errLimit) {
						t.Fatalf("write: %v", err)
					}
					break
				}
				if n != len(s) {
					t.Fatalf("wrote %d of %d bytes without an error", n, len(s))
				}
			}
			if got.String() != tt.want || w.full != tt.full {
				t.Errorf("sent %q (full %v), want %q (full %v)", got.String(), w.full, tt.want, tt.full)
			}
			if tt.full != (ctx.Err() != nil) {
				t.Errorf("log cancelled: %v, want %v", ctx.Err() != nil, tt.full)
			}
			if chunks > len(tt.writes) {
				t.Errorf("%d chunks for %d writes", chunks, len(tt.writes))
			}
		})
	}
}

func TestChunkWriterSendError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broken := errors.New("client gone")
	w := &chunkWriter{limit: -1, cancel: cancel, send: func(*corev1.PodLogChunk) error { return broken }}
	if _, err := w.Write([]byte("x")); !errors.Is(err, broken) {
		t.Fatalf("write: %v", err)
	}
	if ctx.Err() == nil || !errors.Is(w.err, broken) {
		t.Errorf("a failed send does not stop the log: ctx %v, err %v", ctx.Err(), w.err)
	}
	if _, err := w.Write([]byte("y")); !errors.Is(err, broken) {
		t.Errorf("write after a failed send: %v", err)
	}
}
