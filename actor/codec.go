package actor

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
)

// A message is copied at Tell by gob-encoding it and decoding the bytes again, so sender and
// receiver never share memory, local or remote. Two things keep this cheap:
//
//   - A copier is an encoder and a decoder joined by one buffer and used in lockstep. Gob sends
//     a type's description once per stream, and the decoder compiles its engine for a type once,
//     so after the first message of a type a copy costs just the value's encoding and decoding.
//     Copiers are pooled; one that hits an error is dropped, since its streams may disagree.
//   - Per Go type, the first Tell checks through a fresh interface encoding (what a remote tell
//     does) that the type is registered with gob and learns which type decoding yields; later
//     tells encode the concrete value, which skips the type name and a nested buffer.
//
// The size counted in Stats is that of the value as a stream sends it once its types are
// described, so it does not depend on which copier a message met. Type descriptions at the top
// level are separate gob messages and easy to skip; those of values held in interfaces are
// written inside the value, so for types with interfaces the value is encoded a second time,
// when every description is known, and that length is counted. The decoder needs not see the
// second encoding: a value without descriptions does not change its state.
type copier struct {
	buf bytes.Buffer
	enc *gob.Encoder
	dec *gob.Decoder
}

var copiers = sync.Pool{New: func() any {
	c := &copier{}
	c.enc = gob.NewEncoder(&c.buf)
	c.dec = gob.NewDecoder(&c.buf)
	return c
}}

// typeInfo is what copying needs to know about a message's Go type.
type typeInfo struct {
	// decodeAs is the type gob decodes the message as: the type registered under its name, so
	// *T registered as T arrives as T, the same locally as remotely.
	decodeAs reflect.Type
	// hasInterface: values may carry type descriptions inside (see the size rule above).
	hasInterface bool
}

// typeInfos caches typeInfo by Go type. Only successes are cached: registration cannot be
// undone, but a type may be registered later.
var typeInfos sync.Map // reflect.Type -> *typeInfo

// copyMessage returns a deep copy of msg made through gob and the size of its encoding: the
// value alone, as gob sends it once the stream has described its type.
func copyMessage(msg any) (copied any, size int, err error) {
	if msg == nil {
		return nil, 0, ErrNilMessage
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Pointer && v.IsNil() {
		// Encoder.Encode panics on a nil pointer rather than returning an error.
		return nil, 0, fmt.Errorf("%w: %T: nil pointer", ErrUnencodable, msg)
	}
	defer func() {
		if r := recover(); r != nil { // a panic in gob, however unlikely, is the message's fault
			copied, size, err = nil, 0, fmt.Errorf("%w: %T: %v", ErrUnencodable, msg, r)
		}
	}()
	t := reflect.TypeOf(msg)
	v, ok := typeInfos.Load(t)
	if !ok {
		as, err := registeredType(msg)
		if err != nil {
			return nil, 0, err
		}
		v = &typeInfo{decodeAs: as, hasInterface: containsInterface(t, map[reflect.Type]bool{})}
		typeInfos.Store(t, v)
	}
	copied, size, err = copyThrough(copiers.Get().(*copier), msg, v.(*typeInfo))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %T: %v", ErrUnencodable, msg, err)
	}
	return copied, size, nil
}

// copyThrough makes the copy with c, and returns c to the pool unless it failed: a copier
// that failed may have streams out of step.
func copyThrough(c *copier, msg any, info *typeInfo) (any, int, error) {
	if err := c.enc.Encode(msg); err != nil {
		return nil, 0, err
	}
	size := lastMessageLen(c.buf.Bytes())
	out := reflect.New(info.decodeAs)
	if err := c.dec.DecodeValue(out); err != nil {
		return nil, 0, fmt.Errorf("decoding the copy: %v", err)
	}
	if c.buf.Len() != 0 {
		return nil, 0, fmt.Errorf("decoding the copy left %d bytes", c.buf.Len())
	}
	if info.hasInterface {
		if err := c.enc.Encode(msg); err != nil {
			return nil, 0, err
		}
		size = c.buf.Len()
		c.buf.Reset()
	}
	copiers.Put(c)
	return out.Elem().Interface(), size, nil
}

// containsInterface reports whether values of t can hold an interface value anywhere.
func containsInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return containsInterface(t.Elem(), seen)
	case reflect.Map:
		return containsInterface(t.Key(), seen) || containsInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && containsInterface(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// registeredType encodes msg as an interface value with fresh streams, as a remote tell will,
// and returns the dynamic type decoding yields. It fails for unregistered types.
func registeredType(msg any) (reflect.Type, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&msg); err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrUnencodable, msg, err)
	}
	var out any
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrUnencodable, msg, err)
	}
	return reflect.TypeOf(out), nil
}

// lastMessageLen returns the length, count prefix included, of the last gob message in b: a
// stream's type descriptions come first, the value last.
func lastMessageLen(b []byte) int {
	last := 0
	for len(b) > 0 {
		n, width := gobUint(b)
		if width == 0 || uint64(len(b)-width) < n {
			return last // malformed; cannot happen for an encoder's own output
		}
		last = width + int(n)
		b = b[last:]
	}
	return last
}

// gobUint decodes gob's unsigned integer: one byte below 0x80, otherwise the negated byte count
// followed by that many big-endian bytes. width is 0 if b is too short.
func gobUint(b []byte) (v uint64, width int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	n := -int(int8(b[0]))
	if n < 1 || n > 8 || len(b) < 1+n {
		return 0, 0
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n
}
