package labrpc

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// A stream is one direction of a persistent gob connection: an encoder and the decoder that
// reads what it wrote, through a buffer. Like a real connection it sends each type's
// description once and then only values, which keeps a call cheap. A stream carries one
// message at a time; one that failed or whose message was lost midway is dropped rather than
// reused, as its two ends may no longer agree.
type stream struct {
	buf    bytes.Buffer
	enc    *gob.Encoder
	dec    *gob.Decoder
	pooled bool // made by the pool, so its decoder has read only what its encoder wrote
}

var streams = sync.Pool{New: func() any {
	s := &stream{pooled: true}
	s.enc = gob.NewEncoder(&s.buf)
	s.dec = gob.NewDecoder(&s.buf)
	return s
}}

// send encodes v on a stream from the pool and returns the stream holding the message, and the
// message's size in bytes.
func send(v any) (*stream, int, error) {
	s := streams.Get().(*stream)
	if err := s.enc.Encode(v); err != nil {
		return nil, 0, err
	}
	return s, s.buf.Len(), nil
}

// receive decodes the stream's message into the value ptr points to and returns the stream to
// the pool if both ends are still in step.
func (s *stream) receive(ptr any) error {
	if err := s.dec.Decode(ptr); err != nil {
		return err
	}
	if s.pooled && s.buf.Len() == 0 {
		streams.Put(s)
	}
	return nil
}

// CheckType reports the ways v's type would lose data when gob carries it in an RPC or a
// persisted state: struct fields with lower-case names, which gob silently leaves out, at any
// depth of structs, pointers, slices, arrays and maps. It returns nil for a type that travels
// whole. Services can run it over the types they persist, as the network does for every RPC
// argument and reply.
func CheckType(v any) error {
	if v == nil {
		return nil
	}
	var problems []string
	checkFields(reflect.TypeOf(v), map[reflect.Type]bool{}, &problems)
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("labrpc: %s", strings.Join(problems, "; "))
}

// checkFields appends a problem for each unexported struct field reachable from t.
func checkFields(t reflect.Type, seen map[reflect.Type]bool, problems *[]string) {
	if seen[t] {
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		checkFields(t.Elem(), seen, problems)
	case reflect.Map:
		checkFields(t.Key(), seen, problems)
		checkFields(t.Elem(), seen, problems)
	case reflect.Struct:
		if implementsGob(t) {
			return // the type encodes itself; its fields are its own business
		}
		for i := range t.NumField() {
			f := t.Field(i)
			r, _ := utf8.DecodeRuneInString(f.Name)
			if !unicode.IsUpper(r) {
				*problems = append(*problems, fmt.Sprintf(
					"field %s of %s has a lower-case name, so gob drops it", f.Name, typeName(t)))
				continue
			}
			checkFields(f.Type, seen, problems)
		}
	}
}

var (
	gobEncoderType    = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalType = reflect.TypeFor[interface{ MarshalBinary() ([]byte, error) }]()
)

// implementsGob reports whether t (or *t) marshals itself, as time.Time does.
func implementsGob(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(gobEncoderType) || pt.Implements(gobEncoderType) ||
		t.Implements(binaryMarshalType) || pt.Implements(binaryMarshalType)
}

// typeName names t for a warning, with its package so two types called Args differ.
func typeName(t reflect.Type) string {
	if t.Name() != "" && t.PkgPath() != "" {
		return t.PkgPath() + "." + t.Name()
	}
	return t.String()
}

// isZero reports whether the value ptr points to is its type's zero value. gob does not
// transmit zero values, so decoding a reply into a variable that already holds data leaves
// stale fields where the sender meant zero: a bug the network warns about.
func isZero(ptr any) bool {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return true
	}
	return v.Elem().IsZero()
}
