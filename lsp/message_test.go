package lsp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	msgs := []*Message{
		NewConnect(0),
		NewConnect(min(1<<40, math.MaxInt)),
		NewData(3, 17, 5, []byte("hello"), CalculateChecksum(3, 17, 5, []byte("hello"))),
		NewData(3, 18, 0, []byte{}, 0),
		NewData(-1, -2, -3, []byte{0, 0xff, '"', '\\'}, 65535),
		NewAck(9, 0),
		NewCAck(9, 1234567),
		{Type: 7, Payload: []byte("x")},
	}
	for _, m := range msgs {
		want, err := json.Marshal((*plainMessage)(m))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Marshal(); !bytes.Equal(got, want) {
			t.Errorf("Marshal(%v) =\n  %s\nencoding/json:\n  %s", m, got, want)
		}
		if got, _ := json.Marshal(m); !bytes.Equal(got, want) {
			t.Errorf("json.Marshal(*Message) differs from the plain struct: %s", got)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want *Message // nil: an error is expected
	}{
		{"connect", `{"Type":0,"ConnID":0,"SeqNum":42,"Size":0,"Checksum":0,"Payload":null}`, NewConnect(42)},
		{"data", `{"Type":1,"ConnID":3,"SeqNum":4,"Size":2,"Checksum":7,"Payload":"aGk="}`, NewData(3, 4, 2, []byte("hi"), 7)},
		{"empty payload", `{"Type":1,"ConnID":3,"SeqNum":4,"Size":0,"Checksum":7,"Payload":""}`, NewData(3, 4, 0, []byte{}, 7)},
		{"field order and space", " {\n\"SeqNum\" : 5 , \"Type\":2,\t\"ConnID\":-8 }\r\n", NewAck(-8, 5)},
		{"missing fields are zero", `{"Type":3}`, NewCAck(0, 0)},
		{"case-insensitive key", `{"type":2,"seqnum":9}`, NewAck(0, 9)},
		{"escaped payload", `{"Type":1,"Payload":"aG\u006b="}`, &Message{Type: MsgData, Payload: []byte("hi")}},
		{"unknown field ignored", `{"Type":2,"Extra":[1,{"a":2}],"SeqNum":1}`, NewAck(0, 1)},
		{"duplicate key, last wins", `{"Type":2,"SeqNum":1,"SeqNum":2}`, NewAck(0, 2)},
		{"negative zero", `{"Type":2,"SeqNum":-0}`, NewAck(0, 0)},
		{"garbage", `hello`, nil},
		{"empty", ``, nil},
		{"truncated", `{"Type":1,"ConnID":3,"SeqNum":4,"Si`, nil},
		{"trailing junk", `{"Type":2} x`, nil},
		{"unknown type", `{"Type":4}`, nil},
		{"negative type", `{"Type":-1}`, nil},
		{"fraction", `{"Type":1.5}`, nil},
		{"checksum too big", `{"Type":1,"Checksum":65536}`, nil},
		{"checksum negative", `{"Type":1,"Checksum":-1}`, nil},
		{"huge seq", `{"Type":1,"SeqNum":123456789012345678901234567890}`, nil},
		{"bad base64", `{"Type":1,"Payload":"!!!"}`, nil},
		{"leading zero", `{"Type":01}`, nil},
		{"not an object", `[1,2]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Payload: make([]byte, 0, 16), SeqNum: 99} // stale state must not leak through
			err := Unmarshal([]byte(tt.in), m)
			if tt.want == nil {
				if !errors.Is(err, ErrBadMessage) {
					t.Fatalf("Unmarshal(%q) = %v, %v; want ErrBadMessage", tt.in, m, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%q): %v", tt.in, err)
			}
			if !sameMessage(m, tt.want) {
				t.Fatalf("Unmarshal(%q) = %v, want %v", tt.in, m, tt.want)
			}
		})
	}
}

// sameMessage compares messages, treating nil and empty payloads as different (as the wire
// does: null versus "").
func sameMessage(a, b *Message) bool {
	return a.Type == b.Type && a.ConnID == b.ConnID && a.SeqNum == b.SeqNum && a.Size == b.Size &&
		a.Checksum == b.Checksum && bytes.Equal(a.Payload, b.Payload) && (a.Payload == nil) == (b.Payload == nil)
}

func TestCheckData(t *testing.T) {
	t.Parallel()
	good := func(payload string, size int) *Message {
		return NewData(1, 2, size, []byte(payload), CalculateChecksum(1, 2, size, []byte(payload)[:min(size, len(payload))]))
	}
	tests := []struct {
		name    string
		m       *Message
		ok      bool
		payload string
	}{
		{"intact", good("hello", 5), true, "hello"},
		{"empty", good("", 0), true, ""},
		{"lengthened is cut to Size", good("hello junk", 5), true, "hello"},
		{"shortened is dropped", NewData(1, 2, 5, []byte("hel"), CalculateChecksum(1, 2, 5, []byte("hello"))), false, ""},
		{"corrupted is dropped", NewData(1, 2, 5, []byte("jello"), CalculateChecksum(1, 2, 5, []byte("hello"))), false, ""},
		{"negative size is dropped", NewData(1, 2, -1, []byte("x"), 0), false, ""},
		{"wrong seq in checksum", NewData(1, 3, 5, []byte("hello"), CalculateChecksum(1, 2, 5, []byte("hello"))), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok := tt.m.checkData(); ok != tt.ok {
				t.Fatalf("checkData(%v) = %v, want %v", tt.m, ok, tt.ok)
			}
			if tt.ok && string(tt.m.Payload) != tt.payload {
				t.Fatalf("payload after checkData = %q, want %q", tt.m.Payload, tt.payload)
			}
		})
	}
}

func TestMessageString(t *testing.T) {
	t.Parallel()
	for _, m := range []*Message{NewConnect(1), NewData(1, 2, 2, []byte("hi"), 3), NewAck(1, 0), NewCAck(1, 5), {Type: 9}} {
		if s := m.String(); s == "" || !strings.HasPrefix(s, "[") {
			t.Errorf("String() = %q", s)
		}
	}
}

// FuzzUnmarshal checks the fast decoder against encoding/json on arbitrary bytes: both accept
// the same inputs and produce the same message, and neither panics.
func FuzzUnmarshal(f *testing.F) {
	for _, m := range []*Message{NewConnect(7), NewData(1, 2, 3, []byte("abc"), 9), NewAck(1, 0), NewCAck(4, 5)} {
		f.Add(m.Marshal())
	}
	f.Add([]byte(`{"Type":1,"Payload":"aG\u006b=", "seqnum": 3}`))
	f.Add([]byte(`{"Type":1,"Size":99999999999999999999}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Message
		err := Unmarshal(data, &got)
		var want Message
		jerr := json.Unmarshal(data, (*plainMessage)(&want))
		if jerr == nil && (want.Type < MsgConnect || want.Type > MsgCAck) {
			jerr = ErrBadMessage
		}
		if (err == nil) != (jerr == nil) {
			t.Fatalf("Unmarshal(%q) error %v, encoding/json error %v", data, err, jerr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("Unmarshal(%q) = %v, encoding/json %v", data, &got, &want)
		}
		// Whatever decodes re-encodes to something that decodes to the same message.
		var again Message
		if err := Unmarshal(got.Marshal(), &again); err != nil || !sameMessage(&again, &got) {
			t.Fatalf("round trip of %v gave %v, %v", &got, &again, err)
		}
	})
}

func normalize(m Message) Message {
	if len(m.Payload) == 0 && m.Payload != nil {
		m.Payload = []byte{}
	}
	return m
}

func BenchmarkMarshalData1K(b *testing.B) {
	m := newData(1, 2, make([]byte, 1024))
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendMarshal(buf[:0])
	}
}

func BenchmarkUnmarshalData1K(b *testing.B) {
	m0 := newData(1, 2, make([]byte, 1024))
	data := m0.Marshal()
	var m Message
	b.ReportAllocs()
	for b.Loop() {
		if err := Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalAck(b *testing.B) {
	data := NewAck(1, 2).Marshal()
	var m Message
	b.ReportAllocs()
	for b.Loop() {
		if err := Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecVsEncodingJSON encodes and decodes a 1 KB data message with this package's
// codec and with encoding/json, interleaved in one run so that both see the same machine load,
// and reports the time of each and how many times faster ours is (x-baseline).
func BenchmarkCodecVsEncodingJSON(b *testing.B) {
	msg := newData(1, 2, make([]byte, 1024))
	var (
		buf       []byte
		m         Message
		ours, std time.Duration
	)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		buf = msg.AppendMarshal(buf[:0])
		if err := Unmarshal(buf, &m); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		data, err := json.Marshal((*plainMessage)(&msg))
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, (*plainMessage)(&m)); err != nil {
			b.Fatal(err)
		}
		ours, std = ours+t1.Sub(t0), std+time.Since(t1)
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "ns-ours/op")
	b.ReportMetric(float64(std.Nanoseconds())/float64(b.N), "ns-json/op")
	b.ReportMetric(float64(std)/float64(ours), "x-baseline")
}
