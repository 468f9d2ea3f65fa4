package framework_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/services/scheduler/framework"
	"github.com/berth-dev/berth/services/scheduler/plugins"
)

func TestParseConfig(t *testing.T) {
	def := plugins.DefaultConfig()
	for _, tc := range []struct {
		name, yaml string
		// wantErr is a part of the error; "" for a valid configuration.
		wantErr string
		check   func(t *testing.T, c framework.Config)
	}{
		{name: "empty: the defaults", yaml: "", check: func(t *testing.T, c framework.Config) {
			if len(c.Plugins.Filter) != len(def.Plugins.Filter) || len(c.Plugins.Score) != len(def.Plugins.Score) {
				t.Errorf("empty config has %d filters and %d scores, want the defaults", len(c.Plugins.Filter), len(c.Plugins.Score))
			}
		}},
		{name: "reordered filters, default scores", yaml: `
apiVersion: scheduler.berth.dev/v1
kind: SchedulerConfiguration
percentageOfNodesToScore: 30
plugins:
  filter:
  - name: NodeResourcesFit
  - name: NodeUnschedulable
`, check: func(t *testing.T, c framework.Config) {
			if got := c.Plugins.Filter; len(got) != 2 || got[0].Name != "NodeResourcesFit" {
				t.Errorf("filters %v", got)
			}
			if len(c.Plugins.Score) != len(def.Plugins.Score) || c.PercentageOfNodesToScore != 30 {
				t.Errorf("scores %v, percentage %d", c.Plugins.Score, c.PercentageOfNodesToScore)
			}
		}},
		{name: "no scores", yaml: "plugins:\n  score: []\n", check: func(t *testing.T, c framework.Config) {
			if len(c.Plugins.Score) != 0 {
				t.Errorf("scores %v, want none", c.Plugins.Score)
			}
		}},
		{name: "JSON", yaml: `{"plugins": {"score": [{"name": "OwnerSpread", "weight": 5}]}}`},
		{name: "unknown plugin", yaml: "plugins:\n  filter:\n  - name: NodeUnschedulable\n  - name: GPUMagic\n",
			wantErr: `plugins.filter[1].name: Unsupported value: "GPUMagic": supported values:`},
		{name: "negative weight", yaml: "plugins:\n  score:\n  - name: TaintToleration\n    weight: -1\n",
			wantErr: "plugins.score[0].weight: Invalid value: -1: must not be negative"},
		{name: "score plugin as a filter", yaml: "plugins:\n  filter:\n  - name: OwnerSpread\n",
			wantErr: `plugins.filter[0].name: Invalid value: "OwnerSpread": is not a filter plugin`},
		{name: "filter plugin as a score", yaml: "plugins:\n  score:\n  - name: NodePorts\n",
			wantErr: `plugins.score[0].name: Invalid value: "NodePorts": is not a score plugin`},
		{name: "weight on a filter", yaml: "plugins:\n  filter:\n  - name: NodePorts\n    weight: 2\n",
			wantErr: "plugins.filter[0].weight: Forbidden: only score plugins have a weight"},
		{name: "listed twice", yaml: "plugins:\n  filter:\n  - name: NodePorts\n  - name: NodePorts\n",
			wantErr: `plugins.filter[1].name: Duplicate value: "NodePorts"`},
		{name: "no name", yaml: "plugins:\n  score:\n  - weight: 3\n", wantErr: "plugins.score[0].name: Required value"},
		{name: "percentage out of range", yaml: "percentageOfNodesToScore: 101\n", wantErr: "percentageOfNodesToScore: Invalid value: 101"},
		{name: "negative parallelism", yaml: "parallelism: -1\n", wantErr: "parallelism: Invalid value: -1"},
		{name: "wrong kind", yaml: "kind: KubeSchedulerConfiguration\n", wantErr: `kind: Unsupported value: "KubeSchedulerConfiguration"`},
		{name: "wrong apiVersion", yaml: "apiVersion: v1\n", wantErr: `apiVersion: Unsupported value: "v1"`},
		{name: "unknown field", yaml: "plugins:\n  filters: []\n", wantErr: `unknown field "filters"`},
		{name: "bad YAML", yaml: "plugins: [\n", wantErr: "invalid scheduler configuration: error converting YAML to JSON"},
		{name: "weight not a number", yaml: "plugins:\n  score:\n  - name: OwnerSpread\n    weight: heavy\n", wantErr: "invalid scheduler configuration"},
		{name: "every error at once", yaml: "plugins:\n  filter:\n  - name: Nope\n  score:\n  - name: OwnerSpread\n    weight: -3\n",
			wantErr: `[plugins.filter[0].name: Unsupported value: "Nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := framework.ParseConfig([]byte(tc.yaml), def)
			if err == nil {
				err = c.Validate(plugins.Registry())
			}
			if err == nil {
				_, err = framework.New(c, plugins.Registry())
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestWeights(t *testing.T) {
	c, err := framework.ParseConfig([]byte("plugins:\n  score:\n  - name: TaintToleration\n  - name: OwnerSpread\n    weight: 7\n"), plugins.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	f, err := framework.New(c, plugins.Registry())
	if err != nil {
		t.Fatal(err)
	}
	got := f.ScorePlugins()
	if got["TaintToleration"] != 3 || got["OwnerSpread"] != 7 || len(got) != 2 {
		t.Errorf("weights %v, want TaintToleration's default 3 and OwnerSpread 7", got)
	}
}

// FuzzParseConfig feeds arbitrary bytes to the configuration decoder and validator: they
// must answer, never panic, and whatever they accept must build a framework.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"",
		"plugins:\n  filter:\n  - name: NodeUnschedulable\n  score:\n  - name: NodeResourcesFit\n    weight: 2\n",
		"percentageOfNodesToScore: 50\nparallelism: 4\n",
		`{"plugins":{"score":[]}}`,
		"plugins: [\n",
		"plugins:\n  score:\n  - name: X\n    weight: -1\n",
		"kind: SchedulerConfiguration\napiVersion: scheduler.berth.dev/v1\n",
	} {
		f.Add([]byte(seed))
	}
	reg := plugins.Registry()
	def := plugins.DefaultConfig()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := framework.ParseConfig(data, def)
		if err != nil {
			return
		}
		if err := c.Validate(reg); err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if _, err := framework.New(c, reg); err != nil {
			t.Fatalf("a configuration that validates does not build: %v", err)
		}
	})
}
