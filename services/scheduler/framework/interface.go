package framework

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// MaxNodeScore is the highest score a Score plugin gives a Node after normalization;
// MinNodeScore the lowest.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Code is the outcome of a plugin call.
type Code int

// Codes.
const (
	// Success: the Node fits, or the step is done. A nil *Status is a Success.
	Success Code = iota
	// Unschedulable: the Pod does not fit (on this Node, or — from PreFilter — anywhere).
	Unschedulable
	// Error: something went wrong that is not the Pod's fault; the Pod is retried later.
	Error
	// Skip, from PreFilter or PreScore: this plugin has nothing to check or score for this
	// Pod, so its Filter or Score is not called.
	Skip
)

func (c Code) String() string {
	switch c {
	case Success:
		return "Success"
	case Unschedulable:
		return "Unschedulable"
	case Error:
		return "Error"
	case Skip:
		return "Skip"
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// Status is the outcome of a plugin call with its reasons. Statuses may be shared between
// calls (plugins keep the common ones in variables), so they are never modified.
type Status struct {
	code    Code
	reasons []string
	err     error
}

// NewStatus returns a status with a code and the reasons shown to users (Kubernetes' short
// phrases: "Insufficient cpu", "node(s) didn't match Pod's node affinity/selector").
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an error as an Error status; nil stays nil.
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code is the status's code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether s is nil or a Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether s is a Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// Reasons are the status's reasons.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons.
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Err is the status as an error; nil for a Success.
func (s *Status) Err() error {
	if s.IsSuccess() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return fmt.Errorf("%s: %s", s.code, s.Message())
}

// StateKey indexes one plugin's data in a CycleState. Plugins take one each with
// NewStateKey, in a package variable.
type StateKey int32

var stateKeys atomic.Int32

// NewStateKey returns a key no other caller gets.
func NewStateKey() StateKey { return StateKey(stateKeys.Add(1) - 1) }

// CycleState carries what plugins compute for one Pod from PreFilter and PreScore to Filter
// and Score. It lives for one scheduling decision. Reads and writes are indexed by StateKey,
// so the per-Node calls do no map lookups.
type CycleState struct {
	data []any
}

// Write stores v under k.
func (c *CycleState) Write(k StateKey, v any) {
	if int(k) >= len(c.data) {
		c.data = append(c.data, make([]any, int(k)+1-len(c.data))...)
	}
	c.data[k] = v
}

// Read returns what was stored under k, or nil.
func (c *CycleState) Read(k StateKey) any {
	if int(k) >= len(c.data) {
		return nil
	}
	return c.data[k]
}

// Plugin is a scheduling plugin; it implements one or more of the interfaces below.
// Plugins are called from one goroutine per decision, but Filter and Score may be called for
// different Nodes concurrently: they must only read the CycleState.
type Plugin interface {
	// Name is the plugin's name in the configuration.
	Name() string
}

// PreFilterPlugin computes, once per Pod, what its Filter needs, and may reject the Pod for
// every Node at once (Unschedulable) or say its Filter has nothing to check (Skip).
type PreFilterPlugin interface {
	Plugin
	PreFilter(state *CycleState, pod *PodInfo, snap *Snapshot) *Status
}

// FilterPlugin says whether the Pod fits on one Node: nil (fits) or Unschedulable with the
// reasons.
type FilterPlugin interface {
	Plugin
	Filter(state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// PreScorePlugin computes, once per Pod, what its Score needs over the feasible Nodes (and
// the rest of the snapshot), or says there is nothing to score (Skip).
type PreScorePlugin interface {
	Plugin
	PreScore(state *CycleState, pod *PodInfo, snap *Snapshot, feasible []*NodeInfo) *Status
}

// ScorePlugin ranks a feasible Node for the Pod. Without a NormalizeScore, scores must lie in
// [MinNodeScore, MaxNodeScore].
type ScorePlugin interface {
	Plugin
	Score(state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
}

// ScoreNormalizer is implemented by Score plugins whose raw scores need rescaling into
// [MinNodeScore, MaxNodeScore] once every Node is scored.
type ScoreNormalizer interface {
	NormalizeScore(state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// NodeScore is a Node's score from one plugin.
type NodeScore struct {
	Node  *NodeInfo
	Score int64
}

// DefaultNormalizeScore rescales scores to [0, maxPriority] in proportion to the highest,
// and reverses them (higher raw is worse) when reverse is set: Kubernetes' helper.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores []NodeScore) {
	var maxCount int64
	for i := range scores {
		maxCount = max(maxCount, scores[i].Score)
	}
	if maxCount == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := maxPriority * scores[i].Score / maxCount
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}
