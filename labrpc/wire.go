package labrpc

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// encode gob-encodes v the way a real RPC system would put it on the wire.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decode gob-decodes data into the value ptr points to.
func decode(data []byte, ptr any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(ptr)
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
