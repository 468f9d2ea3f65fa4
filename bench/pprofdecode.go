package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file decodes the part of a pprof profile (profile.proto of github.com/google/pprof) that
// the summary needs: each sample's stack of function names and its labels. runtime/pprof
// writes that format; reading it here keeps the benchmark free of pprof's dependencies.

// profSample is one sample of a CPU profile.
type profSample struct {
	// stack holds function names, leaf first, inlined calls included.
	stack  []string
	labels map[string]string
	// cpu is the CPU time the sample stands for, in nanoseconds.
	cpu int64
}

// Field numbers of profile.proto.
const (
	profSampleType  = 1
	profSamples     = 2
	profLocation    = 4
	profFunction    = 5
	profStringTable = 6

	valueTypeType = 1
	valueTypeUnit = 2

	sampleLocationID = 1
	sampleValue      = 2
	sampleLabel      = 3

	labelKey = 1
	labelStr = 2

	locationID   = 1
	locationLine = 4

	lineFunctionID = 1

	functionID   = 1
	functionName = 2
)

type rawSample struct {
	locs   []uint64
	values []int64
	labels [][2]int64
}

// parseProfile decodes a pprof profile, gzipped or not, and returns its samples with the value
// of type "cpu" (the last value when there is none).
func parseProfile(data []byte) ([]profSample, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
	}
	var (
		strs       []string
		valueTypes [][2]int64 // type, unit string indexes
		raws       []rawSample
		locFuncs   = map[uint64][]uint64{} // location → function ids, innermost first
		funcNames  = map[uint64]int64{}    // function → name string index
	)
	err := eachField(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case profStringTable:
			strs = append(strs, string(v))
		case profSampleType:
			var vt [2]int64
			err := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ == protowire.VarintType && (num == valueTypeType || num == valueTypeUnit) {
					vt[num-1] = int64(x)
				}
				return nil
			})
			valueTypes = append(valueTypes, vt)
			return err
		case profSamples:
			s, err := parseSample(v)
			raws = append(raws, s)
			return err
		case profLocation:
			var id uint64
			var funcs []uint64
			err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == locationID && typ == protowire.VarintType:
					id = x
				case num == locationLine && typ == protowire.BytesType:
					return eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
						if num == lineFunctionID && typ == protowire.VarintType {
							funcs = append(funcs, x)
						}
						return nil
					})
				}
				return nil
			})
			locFuncs[id] = funcs
			return err
		case profFunction:
			var id uint64
			var name int64
			err := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case functionID:
					id = x
				case functionName:
					name = int64(x)
				}
				return nil
			})
			funcNames[id] = name
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	str := func(i int64) string {
		if i < 0 || i >= int64(len(strs)) {
			return ""
		}
		return strs[i]
	}
	vi := len(valueTypes) - 1
	for i, vt := range valueTypes {
		if str(vt[0]) == "cpu" {
			vi = i
		}
	}
	out := make([]profSample, 0, len(raws))
	for _, r := range raws {
		s := profSample{}
		if vi >= 0 && vi < len(r.values) {
			s.cpu = r.values[vi]
		}
		for _, l := range r.locs {
			for _, f := range locFuncs[l] {
				s.stack = append(s.stack, str(funcNames[f]))
			}
		}
		for _, l := range r.labels {
			if s.labels == nil {
				s.labels = map[string]string{}
			}
			s.labels[str(l[0])] = str(l[1])
		}
		out = append(out, s)
	}
	return out, nil
}

func parseSample(b []byte) (rawSample, error) {
	var s rawSample
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case sampleLocationID:
			return appendVarints(&s.locs, typ, v, x, func(x uint64) uint64 { return x })
		case sampleValue:
			return appendVarints(&s.values, typ, v, x, func(x uint64) int64 { return int64(x) })
		case sampleLabel:
			if typ != protowire.BytesType {
				return nil
			}
			var l [2]int64
			err := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ == protowire.VarintType && (num == labelKey || num == labelStr) {
					l[num-1] = int64(x)
				}
				return nil
			})
			s.labels = append(s.labels, l)
			return err
		}
		return nil
	})
	return s, err
}

// appendVarints appends a repeated varint field, packed (v) or not (x), converted by conv.
func appendVarints[T any](dst *[]T, typ protowire.Type, v []byte, x uint64, conv func(uint64) T) error {
	switch typ {
	case protowire.VarintType:
		*dst = append(*dst, conv(x))
	case protowire.BytesType:
		for len(v) > 0 {
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return protowire.ParseError(n)
			}
			*dst = append(*dst, conv(x))
			v = v[n:]
		}
	}
	return nil
}

// eachField calls fn for every field of the message b, in order: with the contents of a
// length-delimited field (v), or the value of a varint field (x). Other wire types are skipped.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType && typ != protowire.VarintType {
			continue
		}
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
