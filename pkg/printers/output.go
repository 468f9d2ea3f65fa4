package printers

import (
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
)

// Formats are the values -o accepts ("" is the table).
var Formats = []string{"json", "name", "wide", "yaml"}

// Config chooses a printer.
type Config struct {
	// Output is the -o value: "" (table), "wide", "name", "json" or "yaml".
	Output string
	// Table configures table output; Output "wide" sets Table.Wide.
	Table Options
	// SingleItem says one object was asked for by name: -o json|yaml print it alone rather
	// than in a List.
	SingleItem bool
	// Stream prints every object as it comes (a watch) instead of collecting a List.
	Stream bool
}

// Printer prints objects in one output format.
type Printer interface {
	// Print prints objs, all of kind r.
	Print(r *scheme.Resource, objs []scheme.Object) error
	// Flush writes what the printer held back: the List of -o json|yaml.
	Flush() error
}

// New returns the printer cfg asks for, writing to w.
func New(w io.Writer, cfg Config) (Printer, error) {
	switch cfg.Output {
	case "", "wide":
		opts := cfg.Table
		opts.Wide = opts.Wide || cfg.Output == "wide"
		return tablePrinter{NewTablePrinter(w, opts)}, nil
	case "name":
		return namePrinter{w}, nil
	case "json", "yaml":
		return &objectPrinter{w: w, yaml: cfg.Output == "yaml", single: cfg.SingleItem, stream: cfg.Stream}, nil
	}
	return nil, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,name,wide,yaml", cfg.Output)
}

type tablePrinter struct{ *TablePrinter }

func (tablePrinter) Flush() error { return nil }

type namePrinter struct{ w io.Writer }

func (p namePrinter) Print(r *scheme.Resource, objs []scheme.Object) error {
	for _, o := range objs {
		if _, err := fmt.Fprintln(p.w, Name(r, o)); err != nil {
			return err
		}
	}
	return nil
}

func (namePrinter) Flush() error { return nil }

// objectPrinter writes Kubernetes JSON or YAML. It collects objects and writes them as one
// List on Flush, or as the object alone when one named object was asked for; streaming, it
// writes each object at once (YAML documents separated by ---, as kubectl does).
type objectPrinter struct {
	w                    io.Writer
	yaml, single, stream bool
	objs                 []proto.Message
	printed              int
}

func (p *objectPrinter) Print(_ *scheme.Resource, objs []scheme.Object) error {
	for _, o := range objs {
		if !p.stream {
			p.objs = append(p.objs, o)
			continue
		}
		if err := p.writeOne(o); err != nil {
			return err
		}
	}
	return nil
}

func (p *objectPrinter) Flush() error {
	objs := p.objs
	p.objs = nil
	if p.stream || (len(objs) == 0 && p.single) {
		return nil
	}
	if len(objs) == 1 && p.single {
		return p.writeOne(objs[0])
	}
	var b []byte
	var err error
	if p.yaml {
		b, err = kubejson.MarshalOptions{ItemTypeMeta: true}.MarshalListYAML(objs)
	} else {
		b, err = kubejson.MarshalOptions{ItemTypeMeta: true, Indent: "    "}.MarshalList(objs)
	}
	if err != nil {
		return fmt.Errorf("encoding list: %w", err)
	}
	return p.write(b)
}

func (p *objectPrinter) writeOne(o proto.Message) error {
	var b []byte
	var err error
	if p.yaml {
		if p.printed > 0 {
			if _, err := io.WriteString(p.w, "---\n"); err != nil {
				return err
			}
		}
		b, err = kubejson.MarshalYAML(o)
	} else {
		b, err = kubejson.MarshalOptions{Indent: "    "}.Marshal(o)
	}
	if err != nil {
		return fmt.Errorf("encoding %s: %w", o.ProtoReflect().Descriptor().Name(), err)
	}
	p.printed++
	return p.write(b)
}

func (p *objectPrinter) write(b []byte) error {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	_, err := p.w.Write(b)
	return err
}
