package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/berth-dev/berth/pkg/scheme"
)

// Options choose what a table shows.
type Options struct {
	// Wide adds the columns of -o wide.
	Wide bool
	// WithNamespace adds a NAMESPACE column first (get -A).
	WithNamespace bool
	// WithKind writes names as kind/name, as kubectl does when it prints several kinds.
	WithKind bool
	// ShowLabels adds a LABELS column last.
	ShowLabels bool
	// NoHeaders leaves out the header line.
	NoHeaders bool
	// Now is the time AGE is measured against; zero means time.Now().
	Now time.Time
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// column is one column of a kind's table; wide columns show only with -o wide.
type column struct {
	name string
	wide bool
}

// tableHandler knows one kind's columns and how to fill a row. row returns the cells of every
// column, the wide ones included.
type tableHandler struct {
	columns []column
	row     func(obj scheme.Object, now time.Time) []string
}

// handlers is filled by the files of each kind, keyed by kind.
var handlers = map[string]tableHandler{}

// defaultHandler serves kinds no handler knows: NAME and AGE.
var defaultHandler = tableHandler{
	columns: []column{{name: "NAME"}, {name: "AGE"}},
	row: func(obj scheme.Object, now time.Time) []string {
		md := obj.GetMetadata()
		return []string{md.GetName(), age(md.GetCreationTimestamp(), now)}
	},
}

func handlerFor(r *scheme.Resource) tableHandler {
	if h, ok := handlers[r.Kind]; ok {
		return h
	}
	return defaultHandler
}

// Columns returns the header of r's table.
func Columns(r *scheme.Resource, opts Options) []string {
	h := handlerFor(r)
	var out []string
	if opts.WithNamespace && r.Namespaced {
		out = append(out, "NAMESPACE")
	}
	for _, c := range h.columns {
		if !c.wide || opts.Wide {
			out = append(out, c.name)
		}
	}
	if opts.ShowLabels {
		out = append(out, "LABELS")
	}
	return out
}

// Row returns the cells of obj's row in r's table.
func Row(r *scheme.Resource, obj scheme.Object, opts Options) []string {
	h := handlerFor(r)
	md := scheme.Meta(obj)
	cells := h.row(obj, opts.now())
	var out []string
	if opts.WithNamespace && r.Namespaced {
		out = append(out, md.GetNamespace())
	}
	for i, c := range h.columns {
		if c.wide && !opts.Wide {
			continue
		}
		cell := ""
		if i < len(cells) {
			cell = cells[i]
		}
		if c.name == "NAME" && opts.WithKind {
			cell = KindName(r) + "/" + cell
		}
		out = append(out, cell)
	}
	if opts.ShowLabels {
		out = append(out, formatLabels(md.GetLabels()))
	}
	return out
}

// KindName is how kubectl names a kind in "kind/name" output: "pod", "deployment.apps".
func KindName(r *scheme.Resource) string {
	k := strings.ToLower(r.Kind)
	if r.Group == "" {
		return k
	}
	return k + "." + r.Group
}

// Name is the `-o name` form of an object: "pod/nginx", "deployment.apps/web".
func Name(r *scheme.Resource, obj scheme.Object) string {
	return KindName(r) + "/" + obj.GetMetadata().GetName()
}

// Tab writer geometry of kubectl's tables: a column is at least minWidth wide and padding
// spaces wider than its widest cell.
const (
	minWidth = 6
	padding  = 3
)

// TablePrinter prints tables the way kubectl does. It prints the header once per kind and
// remembers column widths, so that successive calls for the same kind (a watch) stay
// aligned; a call for another kind starts a new table after a blank line.
type TablePrinter struct {
	w       io.Writer
	opts    Options
	current *scheme.Resource
	widths  []int
}

// NewTablePrinter returns a printer writing to w.
func NewTablePrinter(w io.Writer, opts Options) *TablePrinter {
	return &TablePrinter{w: w, opts: opts}
}

// Print prints objs, all of kind r, as rows of r's table.
func (p *TablePrinter) Print(r *scheme.Resource, objs []scheme.Object) error {
	var rows [][]string
	if p.current != r {
		if p.current != nil {
			if _, err := io.WriteString(p.w, "\n"); err != nil {
				return err
			}
		}
		p.current, p.widths = r, nil
		if !p.opts.NoHeaders {
			rows = append(rows, Columns(r, p.opts))
		}
	}
	for _, o := range objs {
		rows = append(rows, Row(r, o, p.opts))
	}
	for _, row := range rows {
		for i, c := range row {
			if i == len(row)-1 {
				break // the last column is never padded
			}
			w := max(minWidth, utf8.RuneCountInString(c)+padding)
			if i >= len(p.widths) {
				p.widths = append(p.widths, w)
			} else if w > p.widths[i] {
				p.widths[i] = w
			}
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", p.widths[i]-utf8.RuneCountInString(c)))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// formatLabels is labels.FormatLabels: sorted k=v pairs joined by commas, or <none>.
func formatLabels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%s", k, m[k])
	}
	return strings.Join(parts, ",")
}
