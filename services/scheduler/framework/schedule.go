package framework

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrNoNodesAvailable is returned when the snapshot has no Node at all; its message is
// Kubernetes'.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Cursor is what one decision hands the next: where the search for feasible Nodes resumes
// and which Node was picked last (for round-robin ties). Start with Cursor{Last: -1}.
type Cursor struct {
	// Start is the index in Snapshot.Nodes where the next search begins.
	Start int
	// Last is the index in Snapshot.Nodes of the Node picked last; -1 for none. Among Nodes
	// with the best score, the first after Last wins.
	Last int
}

// Result is a successful decision.
type Result struct {
	// Node is the chosen Node's name.
	Node string
	// Evaluated is how many Nodes were filtered; Feasible how many of them fit.
	Evaluated, Feasible int
	// Next is the Cursor for the next decision.
	Next Cursor
}

// FitError says why no Node fits a Pod.
type FitError struct {
	// NumAllNodes is the number of Nodes in the snapshot.
	NumAllNodes int
	// Reasons counts the Nodes rejected for each reason (a Node can have several).
	Reasons map[string]int
	// PreFilterMsg is set when a PreFilter rejected the Pod for every Node at once.
	PreFilterMsg string
	// Plugins are the plugins that rejected some Node.
	Plugins []string
}

// NoNodeAvailableMsg starts every FitError message, as in Kubernetes.
const NoNodeAvailableMsg = "0/%v nodes are available"

// Error is Kubernetes' message: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
// didn't match Pod's node affinity/selector." — reasons with their counts, sorted.
func (f *FitError) Error() string {
	msg := fmt.Sprintf(NoNodeAvailableMsg+":", f.NumAllNodes)
	if f.PreFilterMsg != "" {
		return msg + " " + f.PreFilterMsg + "."
	}
	parts := make([]string, 0, len(f.Reasons))
	for r, n := range f.Reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return msg[:len(msg)-1] + "."
	}
	return msg + " " + strings.Join(parts, ", ") + "."
}

// Schedule picks a Node of snap for pod, starting the search at cur. It returns the Node and
// the next Cursor; a *FitError when no Node fits; ErrNoNodesAvailable for an empty snapshot;
// another error when a plugin fails.
func (f *Framework) Schedule(snap *Snapshot, pod *PodInfo, cur Cursor) (Result, error) {
	nodes := snap.Nodes
	n := len(nodes)
	if n == 0 {
		return Result{}, ErrNoNodesAvailable
	}
	start := cur.Start % n
	if start < 0 {
		start = 0
	}
	state := &CycleState{}

	// PreFilter.
	skip := make([]bool, len(f.filters))
	for i, pf := range f.preFilters {
		if pf == nil {
			continue
		}
		st := pf.PreFilter(state, pod, snap)
		switch st.Code() {
		case Success:
		case Skip:
			skip[i] = true
		case Unschedulable:
			return Result{}, &FitError{NumAllNodes: n, PreFilterMsg: st.Message(), Plugins: []string{pf.Name()}}
		default:
			return Result{}, fmt.Errorf("prefilter plugin %s: %w", pf.Name(), st.Err())
		}
	}

	// Filter, until enough feasible Nodes are found.
	sc := f.scratch.Get().(*scratch)
	defer f.scratch.Put(sc)
	want := NumFeasibleNodesToFind(f.percentage, n)
	fs, err := f.findFeasible(state, skip, pod, nodes, start, want, sc)
	if err != nil {
		return Result{}, err
	}
	next := Cursor{Start: (start + fs.processed) % n, Last: cur.Last}
	if len(fs.feasible) == 0 {
		return Result{}, fs.fitError(n)
	}
	res := Result{Evaluated: fs.processed, Feasible: len(fs.feasible), Next: next}
	if len(fs.feasible) == 1 {
		res.Node, res.Next.Last = nodes[fs.feasible[0]].Name, fs.feasible[0]
		return res, nil
	}

	// Score the feasible Nodes.
	totals, err := f.score(state, pod, snap, fs.feasible, sc)
	if err != nil {
		return Result{}, err
	}
	best := selectHost(fs.feasible, totals, cur.Last, n)
	res.Node, res.Next.Last = nodes[best].Name, best
	return res, nil
}

// selectHost returns the index of the Node with the highest total. Among equals it takes
// the first after last in Snapshot order, so that equal Nodes take turns.
func selectHost(feasible []int, totals []int64, last, n int) int {
	best, bestDist := -1, 0
	var bestScore int64
	for i, idx := range feasible {
		dist := ((idx-last-1)%n + n) % n
		switch {
		case best < 0 || totals[i] > bestScore:
			best, bestScore, bestDist = idx, totals[i], dist
		case totals[i] == bestScore && dist < bestDist:
			best, bestDist = idx, dist
		}
	}
	return best
}

// search is the outcome of a search for feasible Nodes.
type search struct {
	// feasible holds indexes into the Nodes, in search order.
	feasible  []int
	processed int
	reasons   map[string]int
	plugins   map[string]bool
}

func (s *search) reject(st *Status, plugin string) {
	if s.reasons == nil {
		s.reasons, s.plugins = map[string]int{}, map[string]bool{}
	}
	for _, r := range st.Reasons() {
		s.reasons[r]++
	}
	s.plugins[plugin] = true
}

func (s *search) fitError(n int) *FitError {
	fe := &FitError{NumAllNodes: n, Reasons: s.reasons}
	for p := range s.plugins {
		fe.Plugins = append(fe.Plugins, p)
	}
	slices.Sort(fe.Plugins)
	return fe
}

// parallelThreshold is the fewest Nodes worth splitting between goroutines.
const parallelThreshold = 256

// scratch holds the buffers of one decision, kept between decisions so that a decision
// over thousands of Nodes allocates next to nothing.
type scratch struct {
	feasible      []int
	feasibleNodes []*NodeInfo
	totals        []int64
	scores        []NodeScore
}

// findFeasible filters nodes from start (wrapping around) until want of them fit or every
// Node was tried.
func (f *Framework) findFeasible(state *CycleState, skip []bool, pod *PodInfo, nodes []*NodeInfo, start, want int, sc *scratch) (*search, error) {
	n := len(nodes)
	if f.parallelism > 1 && n >= parallelThreshold {
		return f.findFeasibleParallel(state, skip, pod, nodes, start, want)
	}
	s := &search{feasible: sc.feasible[:0]}
	defer func() { sc.feasible = s.feasible[:0] }()
	for i := 0; i < n; i++ {
		idx := (start + i) % n
		st, plugin := f.runFilters(state, skip, pod, nodes[idx])
		switch st.Code() {
		case Success:
			s.feasible = append(s.feasible, idx)
			if len(s.feasible) >= want {
				s.processed = i + 1
				return s, nil
			}
		case Error:
			return nil, st.Err()
		default:
			s.reject(st, plugin)
		}
	}
	s.processed = n
	return s, nil
}

// findFeasibleParallel is findFeasible on f.parallelism goroutines, each taking chunks of
// the search order. It keeps findFeasible's result: the first want feasible Nodes in search
// order among those filtered.
func (f *Framework) findFeasibleParallel(state *CycleState, skip []bool, pod *PodInfo, nodes []*NodeInfo, start, want int) (*search, error) {
	n := len(nodes)
	chunk := chunkSize(n, f.parallelism)
	chunks := (n + chunk - 1) / chunk
	ok := make([]bool, n) // by search position
	var (
		next, found atomic.Int64
		wg          sync.WaitGroup
		mu          sync.Mutex
		firstErr    error
	)
	workers := min(f.parallelism, chunks)
	partial := make([]search, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks || found.Load() >= int64(want) {
					return
				}
				for pos := c * chunk; pos < min((c+1)*chunk, n); pos++ {
					st, plugin := f.runFilters(state, skip, pod, nodes[(start+pos)%n])
					switch st.Code() {
					case Success:
						ok[pos] = true
						found.Add(1)
					case Error:
						mu.Lock()
						if firstErr == nil {
							firstErr = st.Err()
						}
						mu.Unlock()
						found.Store(int64(n)) // stop everyone
						return
					default:
						partial[w].reject(st, plugin)
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	s := &search{feasible: make([]int, 0, min(want, n)), processed: n}
	for pos := 0; pos < n; pos++ {
		if ok[pos] {
			s.feasible = append(s.feasible, (start+pos)%n)
			if len(s.feasible) == want {
				s.processed = pos + 1
				break
			}
		}
	}
	if len(s.feasible) == 0 {
		for _, p := range partial {
			for r, c := range p.reasons {
				if s.reasons == nil {
					s.reasons, s.plugins = map[string]int{}, map[string]bool{}
				}
				s.reasons[r] += c
			}
			for pl := range p.plugins {
				s.plugins[pl] = true
			}
		}
	}
	return s, nil
}

// chunkSize is Kubernetes' chunk size for parallel work: about √n, and at most n/workers+1.
func chunkSize(n, workers int) int {
	s := 1
	for s*s < n {
		s++
	}
	if r := n/workers + 1; s > r {
		s = r
	}
	return max(s, 1)
}

// score runs PreScore, Score and NormalizeScore over the feasible Nodes and returns each
// Node's weighted total.
func (f *Framework) score(state *CycleState, pod *PodInfo, snap *Snapshot, feasible []int, sc *scratch) ([]int64, error) {
	feasibleNodes := sc.feasibleNodes[:0]
	for _, idx := range feasible {
		feasibleNodes = append(feasibleNodes, snap.Nodes[idx])
	}
	totals := append(sc.totals[:0], make([]int64, len(feasible))...)
	scores := append(sc.scores[:0], make([]NodeScore, len(feasible))...)
	defer func() {
		clear(feasibleNodes)
		clear(scores)
		sc.feasibleNodes, sc.totals, sc.scores = feasibleNodes[:0], totals[:0], scores[:0]
	}()
	for _, p := range f.scores {
		if p.preScore != nil {
			st := p.preScore.PreScore(state, pod, snap, feasibleNodes)
			if st.IsSkip() {
				continue
			}
			if !st.IsSuccess() {
				return nil, fmt.Errorf("prescore plugin %s: %w", p.Name(), st.Err())
			}
		}
		for i, ni := range feasibleNodes {
			s, st := p.Score(state, pod, ni)
			if !st.IsSuccess() {
				return nil, fmt.Errorf("score plugin %s on node %s: %w", p.Name(), ni.Name, st.Err())
			}
			scores[i] = NodeScore{Node: ni, Score: s}
		}
		if p.normalizer != nil {
			if st := p.normalizer.NormalizeScore(state, pod, scores); !st.IsSuccess() {
				return nil, fmt.Errorf("normalize score plugin %s: %w", p.Name(), st.Err())
			}
		}
		for i := range scores {
			s := scores[i].Score
			if s < MinNodeScore || s > MaxNodeScore {
				return nil, fmt.Errorf("score plugin %s gave node %s the score %d, outside [%d, %d]", p.Name(), scores[i].Node.Name, s, MinNodeScore, MaxNodeScore)
			}
			totals[i] += s * p.weight
		}
	}
	return totals, nil
}
