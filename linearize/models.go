package linearize

import (
	"fmt"
	"strconv"
	"strings"
)

// OpKind names the operations of the built-in models.
type OpKind uint8

const (
	Read          OpKind = iota + 1 // output: the current value
	Write                           // output: ignored
	CompareAndSet                   // output: whether the value was swapped
)

// String returns "read", "write" or "cas", as the timeline labels operations.
func (k OpKind) String() string {
	switch k {
	case Read:
		return "read"
	case Write:
		return "write"
	case CompareAndSet:
		return "cas"
	default:
		return "op(" + strconv.Itoa(int(k)) + ")"
	}
}

// RegisterInput is an operation on a single register holding a string (initially "").
type RegisterInput struct {
	Kind   OpKind
	Value  string // Write: the new value; CompareAndSet: the value swapped in
	Expect string // CompareAndSet: the value it must hold
}

// RegisterOutput is what a register operation answered.
type RegisterOutput struct {
	Value   string // Read
	Swapped bool   // CompareAndSet
}

// RegisterModel is a read/write/compare-and-set register. Inputs are RegisterInput, outputs
// RegisterOutput, states string. Its Partition only drops reads with unknown outcomes.
func RegisterModel() Model {
	return Model{
		Init: func() any { return "" },
		Step: func(state, input, output any) (bool, any) {
			s, _ := state.(string)
			in, ok := input.(RegisterInput)
			if !ok {
				return false, state
			}
			out, known := output.(RegisterOutput)
			_, unknown := output.(UnknownOutput)
			if !known && !unknown {
				return false, state
			}
			switch in.Kind {
			case Read:
				return unknown || out.Value == s, s
			case Write:
				return true, in.Value
			case CompareAndSet:
				swap := s == in.Expect
				if unknown || out.Swapped == swap {
					if swap {
						return true, in.Value
					}
					return true, s
				}
			}
			return false, state
		},
		Hash: func(state any) uint64 { s, _ := state.(string); return hashString(s) },
		Partition: func(history []Operation) [][]Operation {
			// A read with an unknown outcome changes nothing and constrains nothing; pending
			// forever, it would only slow the search.
			kept := make([]Operation, 0, len(history))
			for _, op := range history {
				if in, _ := op.Input.(RegisterInput); !op.Unknown || in.Kind != Read {
					kept = append(kept, op)
				}
			}
			return [][]Operation{kept}
		},
		DescribeOperation: func(input, output any) string {
			in, _ := input.(RegisterInput)
			out, _ := output.(RegisterOutput)
			_, unknown := output.(UnknownOutput)
			return describe(in.Kind, "", in.Value, in.Expect, false, out.Value, true, out.Swapped, unknown)
		},
		DescribeState: func(state any) string { return strconv.Quote(fmt.Sprint(state)) },
	}
}

// KVInput is an operation on one key of a key/value map whose keys start absent.
type KVInput struct {
	Kind   OpKind
	Key    string
	Value  string // Write, CompareAndSet: the new value
	Expect string // CompareAndSet: the value the key must hold
	// ExpectAbsent makes a CompareAndSet succeed only if the key is absent (Expect ignored).
	ExpectAbsent bool
}

// KVOutput is what a key/value operation answered.
type KVOutput struct {
	Value   string // Read
	Found   bool   // Read: whether the key was present
	Swapped bool   // CompareAndSet
}

// KVValue is the state of one key in KVModel.
type KVValue struct {
	Value   string
	Present bool
}

// KVModel is a map of registers, one per key, each with read, write and compare-and-set. It
// partitions a history per key (keys are independent), so each part is checked alone and its
// state is one KVValue, and drops reads with unknown outcomes. Inputs are KVInput, outputs
// KVOutput.
func KVModel() Model {
	return Model{
		Init: func() any { return KVValue{} },
		Step: func(state, input, output any) (bool, any) {
			s, _ := state.(KVValue)
			in, ok := input.(KVInput)
			if !ok {
				return false, state
			}
			out, known := output.(KVOutput)
			_, unknown := output.(UnknownOutput)
			if !known && !unknown {
				return false, state
			}
			switch in.Kind {
			case Read:
				return unknown || (out.Found == s.Present && (!s.Present || out.Value == s.Value)), s
			case Write:
				return true, KVValue{Value: in.Value, Present: true}
			case CompareAndSet:
				swap := s.Present && !in.ExpectAbsent && s.Value == in.Expect || !s.Present && in.ExpectAbsent
				if unknown || out.Swapped == swap {
					if swap {
						return true, KVValue{Value: in.Value, Present: true}
					}
					return true, s
				}
			}
			return false, state
		},
		Hash: func(state any) uint64 {
			s, _ := state.(KVValue)
			if !s.Present {
				return 0
			}
			return hashString(s.Value) | 1
		},
		Partition: func(history []Operation) [][]Operation {
			byKey := map[string]int{}
			var parts [][]Operation
			for _, op := range history {
				in, _ := op.Input.(KVInput)
				if op.Unknown && in.Kind == Read {
					continue // changes nothing and constrains nothing; pending forever, it only slows the search
				}
				i, ok := byKey[in.Key]
				if !ok {
					i = len(parts)
					byKey[in.Key] = i
					parts = append(parts, nil)
				}
				parts[i] = append(parts[i], op)
			}
			return parts
		},
		DescribeOperation: func(input, output any) string {
			in, _ := input.(KVInput)
			out, _ := output.(KVOutput)
			_, unknown := output.(UnknownOutput)
			return describe(in.Kind, in.Key, in.Value, in.Expect, in.ExpectAbsent, out.Value, out.Found, out.Swapped, unknown)
		},
		DescribeState: func(state any) string {
			s, _ := state.(KVValue)
			if !s.Present {
				return "absent"
			}
			return strconv.Quote(s.Value)
		},
	}
}

func describe(kind OpKind, key, value, expect string, expectAbsent bool, got string, found, swapped, unknown bool) string {
	var in, out string
	if key != "" {
		key = strconv.Quote(key) + " "
	}
	switch kind {
	case Read:
		in = strings.TrimSpace("read " + key)
		out = strconv.Quote(got)
		if !found {
			out = "absent"
		}
	case Write:
		in, out = "write "+key+strconv.Quote(value), "ok"
	case CompareAndSet:
		e := strconv.Quote(expect)
		if expectAbsent {
			e = "absent"
		}
		in, out = "cas "+key+e+"→"+strconv.Quote(value), strconv.FormatBool(swapped)
	default:
		in, out = kind.String(), "?"
	}
	if unknown {
		out = "?"
	}
	return in + " ⇒ " + out
}

// hashString is FNV-1a.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
