package lspnet

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
)

// The fault controls act on every socket of the process. Each is one atomic, and active says
// whether any is set, so a perfect network costs a single atomic load per datagram.
var (
	clientReadDrop, clientWriteDrop atomic.Int32
	serverReadDrop, serverWriteDrop atomic.Int32
	shortenPercent, lengthenPercent atomic.Int32
	corruptPercent, delayPercent    atomic.Int32
	maxDelayMillis                  atomic.Int32

	active atomic.Bool
	debug  atomic.Bool
)

var percents = []*atomic.Int32{
	&clientReadDrop, &clientWriteDrop, &serverReadDrop, &serverWriteDrop,
	&shortenPercent, &lengthenPercent, &corruptPercent, &delayPercent,
}

// setPercent stores p, clamped to 0..100, and recomputes active.
func setPercent(v *atomic.Int32, p int) {
	v.Store(int32(min(max(p, 0), 100)))
	on := false
	for _, q := range percents {
		on = on || q.Load() > 0
	}
	active.Store(on)
}

// SetClientReadDropPercent makes client sockets discard p percent of the datagrams they read.
func SetClientReadDropPercent(p int) { setPercent(&clientReadDrop, p) }

// SetClientWriteDropPercent makes client sockets lose p percent of the datagrams they write.
func SetClientWriteDropPercent(p int) { setPercent(&clientWriteDrop, p) }

// SetServerReadDropPercent makes server sockets discard p percent of the datagrams they read.
func SetServerReadDropPercent(p int) { setPercent(&serverReadDrop, p) }

// SetServerWriteDropPercent makes server sockets lose p percent of the datagrams they write.
func SetServerWriteDropPercent(p int) { setPercent(&serverWriteDrop, p) }

// SetDropPercent sets all four drop controls to p: loss in both directions on both sides.
func SetDropPercent(p int) {
	SetClientReadDropPercent(p)
	SetClientWriteDropPercent(p)
	SetServerReadDropPercent(p)
	SetServerWriteDropPercent(p)
}

// SetMsgShorteningPercent makes p percent of written LSP data messages lose the tail of their
// payload, so that their Size exceeds the payload's length.
func SetMsgShorteningPercent(p int) { setPercent(&shortenPercent, p) }

// SetMsgLengtheningPercent makes p percent of written LSP data messages carry junk bytes after
// their payload, beyond their Size.
func SetMsgLengtheningPercent(p int) { setPercent(&lengthenPercent, p) }

// SetMsgCorruptingPercent makes p percent of written LSP data messages have one payload bit
// flipped, their checksum left as it was.
func SetMsgCorruptingPercent(p int) { setPercent(&corruptPercent, p) }

// SetDelayMessagePercent holds back p percent of written datagrams for a random time of up to
// SetMaxDelayMillis, so that they arrive late and out of order. It has no effect while the
// maximum delay is 0.
func SetDelayMessagePercent(p int) { setPercent(&delayPercent, p) }

// SetMaxDelayMillis sets the longest delay SetDelayMessagePercent applies.
func SetMaxDelayMillis(ms int) { maxDelayMillis.Store(int32(max(ms, 0))) }

// ResetDropPercent puts the network back to perfect: every control above to 0.
func ResetDropPercent() {
	for _, q := range percents {
		q.Store(0)
	}
	maxDelayMillis.Store(0)
	active.Store(false)
}

// EnableDebugLogs turns on a log record on stderr for every datagram the controls drop.
func EnableDebugLogs(on bool) { debug.Store(on) }

var debugLog = slog.New(slog.NewTextHandler(os.Stderr, nil))

func debugf(format string, args ...any) {
	if debug.Load() {
		debugLog.Info("lspnet: " + fmt.Sprintf(format, args...))
	}
}

// chance reports true with the probability the control holds, in percent.
func chance(p *atomic.Int32) bool {
	v := p.Load()
	return v > 0 && (v >= 100 || rand.Int32N(100) < v)
}

func randN(n int) int { return rand.IntN(n) }
