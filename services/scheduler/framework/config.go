package framework

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// The apiVersion and kind a configuration file may declare.
const (
	ConfigAPIVersion = "scheduler.berth.dev/v1"
	ConfigKind       = "SchedulerConfiguration"
)

// Config says which plugins run, in which order, with which weights. It is read from YAML
// (or JSON):
//
//	apiVersion: scheduler.berth.dev/v1
//	kind: SchedulerConfiguration
//	percentageOfNodesToScore: 0   # 0: adaptive, as Kubernetes
//	parallelism: 2                # goroutines filtering Nodes (default 1)
//	plugins:
//	  filter:                     # run in this order; the first that rejects a Node decides
//	  - name: NodeUnschedulable
//	  - name: NodeResourcesFit
//	  score:
//	  - name: NodeResourcesFit
//	    weight: 1
//	  - name: TaintToleration     # weight omitted: the plugin's default weight
//
// A list left out takes the default list; an empty list ([]) runs no plugin of that kind.
type Config struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// PercentageOfNodesToScore bounds how many feasible Nodes a search looks for, in percent
	// of all Nodes (0: adaptive; see NumFeasibleNodesToFind).
	PercentageOfNodesToScore int32 `json:"percentageOfNodesToScore,omitempty"`
	// Parallelism is the number of goroutines that filter Nodes (0: 1). Filtering a Node
	// costs well under a microsecond, so splitting the work pays only where cores sit idle:
	// on a machine shared with the apiserver and etcd, one goroutine is faster.
	Parallelism int32   `json:"parallelism,omitempty"`
	Plugins     Plugins `json:"plugins,omitempty"`
}

// Plugins lists the plugins of each extension point, in the order they run. PreFilter and
// PreScore run for the plugins listed here that implement them.
type Plugins struct {
	Filter []PluginRef `json:"filter"`
	Score  []PluginRef `json:"score"`
}

// PluginRef names a plugin, with a weight for Score plugins (0: the plugin's default).
type PluginRef struct {
	Name   string `json:"name"`
	Weight int32  `json:"weight,omitempty"`
}

// Registration is how a plugin is made, and its weight when a configuration gives none.
type Registration struct {
	New           func() Plugin
	DefaultWeight int32
}

// Registry maps plugin names to their registrations.
type Registry map[string]Registration

// ParseConfig decodes a configuration from YAML or JSON, strictly: an unknown field is an
// error. Lists it leaves out take defaults' lists. The result still needs New to validate the
// plugins against a Registry.
func ParseConfig(data []byte, defaults Config) (Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return Config{}, fmt.Errorf("invalid scheduler configuration: %w", err)
	}
	if c.Plugins.Filter == nil {
		c.Plugins.Filter = slices.Clone(defaults.Plugins.Filter)
	}
	if c.Plugins.Score == nil {
		c.Plugins.Score = slices.Clone(defaults.Plugins.Score)
	}
	return c, nil
}

// Validate checks c against the plugins of reg, naming each bad entry.
func (c *Config) Validate(reg Registry) error {
	var errs field.ErrorList
	if c.APIVersion != "" && c.APIVersion != ConfigAPIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), c.APIVersion, []string{ConfigAPIVersion}))
	}
	if c.Kind != "" && c.Kind != ConfigKind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), c.Kind, []string{ConfigKind}))
	}
	if p := c.PercentageOfNodesToScore; p < 0 || p > 100 {
		errs = append(errs, field.Invalid(field.NewPath("percentageOfNodesToScore"), p, "must be between 0 and 100"))
	}
	if c.Parallelism < 0 {
		errs = append(errs, field.Invalid(field.NewPath("parallelism"), c.Parallelism, "must not be negative"))
	}
	names := make([]string, 0, len(reg))
	for n := range reg {
		names = append(names, n)
	}
	slices.Sort(names)
	check := func(path *field.Path, refs []PluginRef, kind string, implements func(Plugin) bool) {
		seen := map[string]bool{}
		for i, ref := range refs {
			p := path.Index(i)
			r, ok := reg[ref.Name]
			switch {
			case ref.Name == "":
				errs = append(errs, field.Required(p.Child("name"), "the plugin's name"))
				continue
			case !ok:
				errs = append(errs, field.NotSupported(p.Child("name"), ref.Name, names))
				continue
			case seen[ref.Name]:
				errs = append(errs, field.Duplicate(p.Child("name"), ref.Name))
				continue
			case !implements(r.New()):
				errs = append(errs, field.Invalid(p.Child("name"), ref.Name, "is not a "+kind+" plugin"))
			}
			seen[ref.Name] = true
			if ref.Weight < 0 {
				errs = append(errs, field.Invalid(p.Child("weight"), ref.Weight, "must not be negative"))
			}
			if ref.Weight != 0 && kind != "score" {
				errs = append(errs, field.Forbidden(p.Child("weight"), "only score plugins have a weight"))
			}
		}
	}
	check(field.NewPath("plugins", "filter"), c.Plugins.Filter, "filter", func(p Plugin) bool { _, ok := p.(FilterPlugin); return ok })
	check(field.NewPath("plugins", "score"), c.Plugins.Score, "score", func(p Plugin) bool { _, ok := p.(ScorePlugin); return ok })
	if len(errs) > 0 {
		return fmt.Errorf("invalid scheduler configuration: %w", errs.ToAggregate())
	}
	return nil
}
