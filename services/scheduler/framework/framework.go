package framework

import (
	"fmt"
	"sync"
)

// Framework runs the plugins a Config lists. It is immutable once built, so one Framework
// serves any number of decisions, one after another or at once.
type Framework struct {
	filters []FilterPlugin
	// preFilters[i] is the PreFilter of filters[i], or nil.
	preFilters []PreFilterPlugin
	scores     []weightedScore

	percentage  int32
	parallelism int
	scratch     sync.Pool // of *scratch
}

type weightedScore struct {
	ScorePlugin
	weight     int64
	preScore   PreScorePlugin  // nil when the plugin has none
	normalizer ScoreNormalizer // nil when the plugin's scores need no normalizing
}

// New validates cfg against reg and builds the framework it describes. A plugin listed for
// several extension points is one instance.
func New(cfg Config, reg Registry) (*Framework, error) {
	if err := cfg.Validate(reg); err != nil {
		return nil, err
	}
	instances := map[string]Plugin{}
	get := func(name string) Plugin {
		p, ok := instances[name]
		if !ok {
			p = reg[name].New()
			instances[name] = p
		}
		return p
	}
	f := &Framework{percentage: cfg.PercentageOfNodesToScore, parallelism: max(int(cfg.Parallelism), 1)}
	f.scratch.New = func() any { return &scratch{} }
	for _, ref := range cfg.Plugins.Filter {
		p := get(ref.Name)
		f.filters = append(f.filters, p.(FilterPlugin))
		pf, _ := p.(PreFilterPlugin)
		f.preFilters = append(f.preFilters, pf)
	}
	for _, ref := range cfg.Plugins.Score {
		p := get(ref.Name)
		w := ref.Weight
		if w == 0 {
			w = max(reg[ref.Name].DefaultWeight, 1)
		}
		ws := weightedScore{ScorePlugin: p.(ScorePlugin), weight: int64(w)}
		ws.normalizer, _ = p.(ScoreNormalizer)
		ws.preScore, _ = p.(PreScorePlugin)
		f.scores = append(f.scores, ws)
	}
	return f, nil
}

// FilterPlugins are the names of the filter plugins in the order they run.
func (f *Framework) FilterPlugins() []string {
	out := make([]string, len(f.filters))
	for i, p := range f.filters {
		out[i] = p.Name()
	}
	return out
}

// ScorePlugins are the names and weights of the score plugins.
func (f *Framework) ScorePlugins() map[string]int64 {
	out := make(map[string]int64, len(f.scores))
	for _, p := range f.scores {
		out[p.Name()] = p.weight
	}
	return out
}

// Feasibility search bounds, as Kubernetes'.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
	basePercentageOfNodesToScore     = 50
)

// NumFeasibleNodesToFind is how many feasible Nodes a search looks for before it stops, out of
// numAll: Kubernetes' rule. Below 100 Nodes, all of them. Otherwise percentage of them (when
// 0: 50% minus 1% per 125 Nodes, at least 5%), and at least 100.
func NumFeasibleNodesToFind(percentage int32, numAll int) int {
	if numAll < minFeasibleNodesToFind {
		return numAll
	}
	p := int(percentage)
	if p <= 0 {
		p = max(basePercentageOfNodesToScore-numAll/125, minFeasibleNodesPercentageToFind)
	}
	n := numAll * p / 100
	if n < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return n
}

// runFilters runs the filter plugins on one Node until one rejects it.
func (f *Framework) runFilters(state *CycleState, skip []bool, pod *PodInfo, node *NodeInfo) (*Status, string) {
	for i, p := range f.filters {
		if skip[i] {
			continue
		}
		if st := p.Filter(state, pod, node); !st.IsSuccess() {
			if st.Code() == Error {
				return AsStatus(fmt.Errorf("filter plugin %s on node %s: %w", p.Name(), node.Name, st.Err())), p.Name()
			}
			return st, p.Name()
		}
	}
	return nil, ""
}
