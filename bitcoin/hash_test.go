package bitcoin

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"testing"

	"ds440/bitcoin/internal/sched"
)

// referenceHash is the definition of Hash written the obvious way, to check the fast paths.
func referenceHash(msg string, nonce uint64) uint64 {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s %d", msg, nonce)))
	return binary.BigEndian.Uint64(sum[:8])
}

// bruteForce is the specification of a job's answer.
func bruteForce(msg string, lower, upper uint64) (hash, nonce uint64) {
	hash, nonce = math.MaxUint64, lower
	for n := lower; ; n++ {
		if h := referenceHash(msg, n); sched.Better(h, n, hash, nonce) {
			hash, nonce = h, n
		}
		if n == upper {
			return
		}
	}
}

func TestHashMatchesDefinition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg   string
		nonce uint64
	}{
		{"", 0}, {"cmu440", 0}, {"cmu440", 1}, {"hello world", 999}, {"x:y z", math.MaxUint64},
	} {
		if got, want := Hash(tc.msg, tc.nonce), referenceHash(tc.msg, tc.nonce); got != want {
			t.Errorf("Hash(%q, %d) = %d, want %d", tc.msg, tc.nonce, got, want)
		}
	}
}

func TestDecimalCounter(t *testing.T) {
	t.Parallel()
	for _, start := range []uint64{0, 8, 9, 98, 99, 999, 1234, 99999, math.MaxUint64 - 3, 9999999999999999999} {
		var d decimalCounter
		d.init("m", start)
		n := start
		for i := 0; i < 5 && n != math.MaxUint64; i++ {
			if got, want := string(d.buf), "m "+strconv.FormatUint(n, 10); got != want {
				t.Fatalf("start %d step %d: buf %q, want %q", start, i, got, want)
			}
			d.increment()
			n++
		}
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg          string
		lower, upper uint64
	}{
		{"cmu440", 0, 0},
		{"cmu440", 0, 999},
		{"bitcoin", 95, 1005},
		{"ds440", 9990, 10010},
		{"edge", math.MaxUint64 - 50, math.MaxUint64},
	} {
		wantHash, wantNonce := bruteForce(tc.msg, tc.lower, tc.upper)
		hash, nonce, ok := Scan(tc.msg, tc.lower, tc.upper, nil)
		if !ok || hash != wantHash || nonce != wantNonce {
			t.Errorf("Scan(%q, %d, %d) = (%d, %d, %v), want (%d, %d, true)",
				tc.msg, tc.lower, tc.upper, hash, nonce, ok, wantHash, wantNonce)
		}
	}
}

func TestScanStops(t *testing.T) {
	t.Parallel()
	calls := 0
	_, _, ok := Scan("stop", 0, math.MaxUint64, func() bool { calls++; return calls == 3 })
	if ok || calls != 3 {
		t.Fatalf("Scan with stop: ok=%v after %d polls, want false after 3", ok, calls)
	}
}

func TestMessageRoundTrip(t *testing.T) {
	t.Parallel()
	for _, m := range []*Message{NewJoin(), NewRequest("data with spaces", 3, 99), NewResult(math.MaxUint64, 42)} {
		got, err := unmarshal(m.marshal())
		if err != nil {
			t.Fatalf("unmarshal(%s): %v", m, err)
		}
		if *got != *m {
			t.Errorf("round trip %s = %s", m, got)
		}
	}
}

func TestUnmarshalRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{
		``, `{`, `null x`, `[]`, `{"Type":7}`, `{"Type":-1}`,
		`{"Type":1,"Data":"x","Lower":5,"Upper":4}`, `{"Type":"Join"}`, `{"Lower":-1}`,
	} {
		if m, err := unmarshal([]byte(payload)); err == nil {
			t.Errorf("unmarshal(%q) = %s, want an error", payload, m)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, m := range []*Message{NewJoin(), NewRequest("d", 0, 10), NewResult(1, 2)} {
		f.Add(m.marshal())
	}
	f.Add([]byte(`{"Type":1,"Lower":9,"Upper":1}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := unmarshal(payload)
		if err != nil {
			return
		}
		again, err := unmarshal(m.marshal())
		if err != nil || *again != *m {
			t.Fatalf("accepted %q but its re-encoding does not round-trip: %v", payload, err)
		}
	})
}
