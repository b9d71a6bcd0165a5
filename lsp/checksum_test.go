package lsp

import (
	"math/rand/v2"
	"testing"
)

// refChecksum is the contract's definition written out word by word, the oracle for the fast
// CalculateChecksum.
func refChecksum(connID, seqNum, size int, payload []byte) uint16 {
	var sum uint32
	add := func(w uint16) {
		sum += uint32(w)
		sum = (sum & 0xffff) + (sum >> 16)
	}
	for _, v := range []int{connID, seqNum, size} {
		u := uint32(v)
		add(uint16(u >> 16))
		add(uint16(u))
	}
	for i := 0; i < len(payload); i += 2 {
		w := uint16(payload[i]) << 8
		if i+1 < len(payload) {
			w |= uint16(payload[i+1])
		}
		add(w)
	}
	return uint16(sum)
}

func TestChecksumKnownValues(t *testing.T) {
	tests := []struct {
		name              string
		connID, seq, size int
		payload           []byte
		want              uint16
	}{
		{"all zero", 0, 0, 0, nil, 0},
		{"header words", 1, 2, 3, nil, 6},
		{"high words count", 0x10000, 0x20000, 0, nil, 3},
		{"one byte is a high byte", 0, 0, 1, []byte{0xab}, 0xab01},
		{"two bytes big-endian", 0, 0, 2, []byte{0x12, 0x34}, 0x1236},
		{"carry folds back", 0, 0, 4, []byte{0xff, 0xff, 0x00, 0x02}, 0x0006},
		{"negative as 32-bit", -1, 0, 0, nil, 0xffff},
		{"odd tail", 5, 6, 3, []byte{1, 2, 3}, 5 + 6 + 3 + 0x0102 + 0x0300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CalculateChecksum(tt.connID, tt.seq, tt.size, tt.payload); got != tt.want {
				t.Errorf("CalculateChecksum = %#04x, want %#04x", got, tt.want)
			}
			if got := refChecksum(tt.connID, tt.seq, tt.size, tt.payload); got != tt.want {
				t.Errorf("reference = %#04x, want %#04x (the table is wrong)", got, tt.want)
			}
		})
	}
}

func TestChecksumMatchesReference(t *testing.T) {
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
	allOnes := make([]byte, 4096)
	for i := range allOnes {
		allOnes[i] = 0xff
	}
	if got, want := CalculateChecksum(-1, -1, -1, allOnes), refChecksum(-1, -1, -1, allOnes); got != want {
		t.Fatalf("all ones: %#04x, reference %#04x", got, want)
	}
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
