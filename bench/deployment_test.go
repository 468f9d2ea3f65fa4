package main

import (
	"testing"
	"time"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestRolloutComplete(t *testing.T) {
	three := int32(3)
	dep := func(gen, observed int64, replicas, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			Metadata: &metav1.ObjectMeta{Generation: gen},
			Spec:     &appsv1.DeploymentSpec{Replicas: &three},
			Status:   &appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available},
		}
	}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"complete", dep(2, 2, 3, 3, 3), true},
		{"new spec not observed", dep(2, 1, 3, 3, 3), false},
		{"observed later generation", dep(2, 3, 3, 3, 3), true},
		{"not every replica updated", dep(2, 2, 3, 2, 2), false},
		{"old replicas pending termination", dep(2, 2, 4, 3, 3), false},
		{"updated not all available", dep(2, 2, 3, 3, 2), false},
		{"no status", &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Generation: 1}, Spec: &appsv1.DeploymentSpec{Replicas: &three}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rolloutComplete(tt.d); got != tt.want {
				t.Errorf("rolloutComplete = %v, want %v (status %v)", got, tt.want, tt.d.GetStatus())
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "1234 (berth) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 12 0 100 0 0", 3800 * time.Millisecond, false},
		{"name with spaces and parentheses", "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0", 100 * time.Millisecond, false},
		{"short", "1234 (berth) S 1 2", 0, true},
		{"no name", "1234 berth S", 0, true},
		{"not numbers", "1234 (berth) S 1 1234 1234 0 -1 4194560 100 0 0 0 x y 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, s := range []string{"one\n", "two\n", "three\n"} {
		if _, err := b.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.tail(5); got != "o\nthree" {
		t.Errorf("tail = %q, want %q (the last 8 bytes)", got, "o\nthree")
	}
	if got := b.tail(1); got != "three" {
		t.Errorf("tail(1) = %q, want %q", got, "three")
	}
	if len(b.b) != 8 {
		t.Errorf("kept %d bytes, want 8", len(b.b))
	}
}

func TestDeployTargets(t *testing.T) {
	phase := func(secs float64, peak int64) *deployPhase {
		return &deployPhase{pods: 1000, elapsed: time.Duration(secs * float64(time.Second)), server: phaseUsage{peak: peak}}
	}
	tests := []struct {
		name string
		res  *deployResult
		want []string // Result column per row
	}{
		{"within targets", &deployResult{raw: phase(10, 100<<20), create: phase(19, 200<<20), rollout: phase(30, 250<<20)}, []string{"**PASS**", "**PASS**", "**PASS**"}},
		{"slow and large", &deployResult{raw: phase(10, 100<<20), create: phase(21, 200<<20), rollout: phase(30, 290<<20)}, []string{"**MISS**", "**PASS**", "**MISS**"}},
		{"incomplete", &deployResult{raw: phase(10, 100<<20), create: phase(21, 200<<20)}, nil},
		{"skipped", &deployResult{skipped: "no binary"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.res.cfg = deployConfig{replicas: 1000, nodes: 100, creators: 16}
			tbl := &table{}
			(&report{deploy: tt.res}).deployTargets(tbl)
			if len(tbl.rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d: %v", len(tbl.rows), len(tt.want), tbl.rows)
			}
			for i, row := range tbl.rows {
				if row[2] != tt.want[i] {
					t.Errorf("row %q: %s, want %s", row[0], row[2], tt.want[i])
				}
			}
		})
	}
}
