package lsp

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// refChecksum is the contract's definition written out step by step, the oracle for the fast
// CalculateChecksum.
func refChecksum(connID, seqNum, size int, payload []byte) uint16 {
	var sum uint32
	for _, v := range []int{connID, seqNum, size} {
		u := uint32(v)
		sum += uint32(uint16(u&0xffff + u>>16)) // one addition, its carry dropped
	}
	for i := 0; i < len(payload); i += 2 {
		w := uint32(payload[i]) // the low byte
		if i+1 < len(payload) {
			w |= uint32(payload[i+1]) << 8
		}
		sum += w
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// uint32Int is v as an int: the contract's 32-bit field value, which a 32-bit int holds as a
// negative number with the same bits (a conversion at run time; a constant would overflow).
func uint32Int(v uint32) int { return int(v) }

// TestChecksumVectors checks every vector of the contract, and a few more edges.
func TestChecksumVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		connID, seq, size int
		payload           string
		want              uint16
	}{
		// The contract's vectors.
		{1, 1, 5, "hello", 0x2db5},
		{0, 0, 0, "", 0xffff},
		{7, 42, 3, "abc", 0x9d07},
		{65535, 65537, 4, "\xff\xff\xff\xff", 0xfff9},
		{123456, 99, 1, "z", 0x1ce0},
		{1 << 20, 3, 0, "", 0xffec},
		{uint32Int(0x80008000), 0, 0, "", 0xffff},
		// An odd last byte is a low byte; two bytes are one little-endian word.
		{0, 0, 0, "\xab", ^uint16(0x00ab)},
		{0, 0, 0, "\x12\x34", ^uint16(0x3412)},
		// A sum that folds to 0xffff complements to 0.
		{0, 0, 0, "\xff\xff", 0},
		// Negative fields are 32-bit unsigned values: 0xffff + 0xffff, carry dropped, is 0xfffe.
		{-1, 0, 0, "", 0x0001},
	}
	for _, tt := range tests {
		got := CalculateChecksum(tt.connID, tt.seq, tt.size, []byte(tt.payload))
		if got != tt.want {
			t.Errorf("CalculateChecksum(%d, %d, %d, %q) = %#04x, want %#04x", tt.connID, tt.seq, tt.size, tt.payload, got, tt.want)
		}
		if ref := refChecksum(tt.connID, tt.seq, tt.size, []byte(tt.payload)); ref != tt.want {
			t.Errorf("reference(%d, %d, %d, %q) = %#04x, want %#04x (the oracle is wrong)", tt.connID, tt.seq, tt.size, tt.payload, ref, tt.want)
		}
	}
}

func TestChecksumMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		p := make([]byte, r.IntN(200))
		for i := range p {
			p[i] = byte(r.Uint32())
			if r.IntN(3) == 0 {
				p[i] = 0xff // long runs of 0xff stress the carries
			}
		}
		c, s, n := int(r.Int64()), int(r.Int64()), r.IntN(1<<20)
		if got, want := CalculateChecksum(c, s, n, p), refChecksum(c, s, n, p); got != want {
			t.Fatalf("CalculateChecksum(%d,%d,%d,%x) = %#04x, reference %#04x", c, s, n, p, got, want)
		}
	}
	// Around the longest payload the 64-bit path takes, and beyond it, where the definition's
	// 32-bit sum wraps.
	for _, n := range []int{maxFastPayload - 1, maxFastPayload, maxFastPayload + 1, 1 << 18} {
		p := bytes.Repeat([]byte{0xff}, n)
		if got, want := CalculateChecksum(-1, -1, -1, p), refChecksum(-1, -1, -1, p); got != want {
			t.Fatalf("%d bytes of 0xff: %#04x, reference %#04x", n, got, want)
		}
	}
}

// TestChecksumCatchesCorruptByte changes every byte of the covered fields of a data datagram
// (the values of ConnID, SeqNum, Size, Checksum and Payload as they are on the wire) to every
// other value, and checks that the receiver never accepts a message that differs from the one
// sent: the datagram no longer decodes, or names another connection, or fails the Size or
// checksum check, or still decodes to exactly the original message.
func TestChecksumCatchesCorruptByte(t *testing.T) {
	t.Parallel()
	msgs := []Message{
		newData(1, 1, []byte("hello")),
		newData(7, 42, []byte("abc")),
		newData(3, 9, []byte{}),
		newData(12, 65530, []byte("\x00\xff\x01\xfe odd")),
		newData(123456, 99, []byte("z")),
	}
	for _, orig := range msgs {
		wire := orig.Marshal()
		fieldStart := bytes.Index(wire, []byte(`,"ConnID":`)) // everything after Type
		var caught, same int
		for i := fieldStart; i < len(wire); i++ {
			if isKeyByte(wire, i) {
				continue
			}
			for v := range 256 {
				if byte(v) == wire[i] {
					continue
				}
				bad := bytes.Clone(wire)
				bad[i] = byte(v)
				var m Message
				switch {
				case Unmarshal(bad, &m) != nil, m.Type != MsgData, m.ConnID != orig.ConnID, !m.checkData():
					caught++
				case m.SeqNum == orig.SeqNum && m.Size == orig.Size && bytes.Equal(m.Payload, orig.Payload):
					same++ // e.g. unused bits of the last base64 character
				default:
					t.Fatalf("%v: byte %d changed to %q gives %v, accepted", &orig, i, byte(v), &m)
				}
			}
		}
		if caught == 0 {
			t.Fatalf("%v: nothing tried", &orig)
		}
	}
}

// isKeyByte reports whether wire[i] lies inside a quoted key (the keys are not covered by the
// checksum: a changed key makes a field missing, which is a different property).
func isKeyByte(wire []byte, i int) bool {
	for _, key := range []string{`"ConnID"`, `"SeqNum"`, `"Size"`, `"Checksum"`, `"Payload"`} {
		j := bytes.Index(wire, []byte(key))
		if i >= j && i < j+len(key) {
			return true
		}
	}
	return false
}

func FuzzChecksum(f *testing.F) {
	f.Add(1, 2, 3, []byte("hello"))
	f.Add(-1, -1, -1, []byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, connID, seq, size int, payload []byte) {
		if got, want := CalculateChecksum(connID, seq, size, payload), refChecksum(connID, seq, size, payload); got != want {
			t.Fatalf("CalculateChecksum = %#04x, reference %#04x", got, want)
		}
	})
}

func BenchmarkChecksum1K(b *testing.B) {
	p := make([]byte, 1024)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		CalculateChecksum(1, 2, len(p), p)
	}
}
