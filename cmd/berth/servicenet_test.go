package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestAgentServiceNetwork(t *testing.T) {
	base := agentOptions{nodeName: "n1", runtime: "docker", nodeCPU: "4", nodeMemory: "16Gi", nodePods: 110, proxy: true, clusterDomain: "cluster.local"}
	tests := []struct {
		name             string
		change           func(o *agentOptions)
		wantRange, wantD string // "" with no error: no proxy
		wantErr          string
	}{
		{name: "defaults", change: func(*agentOptions) {}, wantRange: "10.96.0.0/16", wantD: "10.96.0.10"},
		{name: "the server's range", change: func(o *agentOptions) { o.serviceRange = "10.100.0.0/24" }, wantRange: "10.100.0.0/24", wantD: "10.100.0.10"},
		{name: "explicit cluster DNS", change: func(o *agentOptions) { o.clusterDNS = "10.96.0.53" }, wantRange: "10.96.0.0/16", wantD: "10.96.0.53"},
		{name: "--proxy=false", change: func(o *agentOptions) { o.proxy = false }},
		{name: "fake runtime", change: func(o *agentOptions) { o.runtime = "fake" }},
		{name: "cluster DNS outside the range", change: func(o *agentOptions) { o.clusterDNS = "192.168.1.1" }, wantErr: "--cluster-dns: 192.168.1.1 is outside --service-cluster-ip-range 10.96.0.0/16"},
		{name: "cluster DNS elsewhere without the proxy", change: func(o *agentOptions) { o.clusterDNS, o.proxy = "192.168.1.1", false }},
		{name: "bad cluster DNS", change: func(o *agentOptions) { o.clusterDNS = "dns" }, wantErr: `--cluster-dns: "dns" is not an IPv4 address`},
		{name: "bad domain", change: func(o *agentOptions) { o.clusterDomain = "Cluster_Local" }, wantErr: `--cluster-domain: "Cluster_Local"`},
		{name: "bad range", change: func(o *agentOptions) { o.serviceRange = "10.96.0.0" }, wantErr: "--service-cluster-ip-range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			if err := o.check(); tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("check: %v, want %q", err, tt.wantErr)
				}
				return
			} else if err != nil {
				t.Fatalf("check: %v", err)
			}
			sn, _ := o.serviceNetwork()
			switch {
			case tt.wantRange == "" && sn != nil:
				t.Fatalf("service network %+v, want none", sn)
			case tt.wantRange != "" && (sn == nil || sn.ServiceRange.String() != tt.wantRange || sn.DNS.String() != tt.wantD):
				t.Fatalf("service network %+v, want range %s and DNS %s", sn, tt.wantRange, tt.wantD)
			}
		})
	}
}

// TestAgentProxyOptional: by default an agent that may not run the proxy runs without it;
// asked for with --proxy, the proxy must start or the agent fails.
func TestAgentProxyOptional(t *testing.T) {
	for _, tt := range []struct {
		args         []string
		wantOptional bool
	}{
		{nil, true},
		{[]string{"--proxy"}, false},
		{[]string{"--proxy=true"}, false},
	} {
		var o agentOptions
		f := pflag.NewFlagSet("agent", pflag.ContinueOnError)
		o.addFlags(f, false)
		if err := f.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		o.nodeName, o.runtime = "n1", "docker"
		sn, err := o.serviceNetwork()
		if err != nil || sn == nil {
			t.Fatalf("%v: service network %+v, %v", tt.args, sn, err)
		}
		if sn.Optional != tt.wantOptional {
			t.Errorf("%v: Optional %v, want %v", tt.args, sn.Optional, tt.wantOptional)
		}
	}
}
