package lspnet

import (
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"time"
)

// Faults is one set of fault controls, with its tap and sniff counters. Every socket obeys
// exactly one set: the one of the Network that opened it (the package-level ListenUDP and
// DialUDP use the process-wide default set, which the package-level controls act on). A test
// that opens its sockets from its own Network owns its faults and can run in parallel with
// others. The zero value is a perfect network; all methods are safe for concurrent use.
type Faults struct {
	clientReadDrop, clientWriteDrop atomic.Int32
	serverReadDrop, serverWriteDrop atomic.Int32
	shortenPercent, lengthenPercent atomic.Int32
	corruptPercent, delayPercent    atomic.Int32
	maxDelayMillis                  atomic.Int32
	corruptAll                      atomic.Bool

	// active says whether any control above is set, so that a perfect network costs a single
	// atomic load per datagram.
	active atomic.Bool

	tap      atomic.Pointer[Tap]
	sniffing atomic.Bool
	sniff    sniffCounters
	logger   atomic.Pointer[slog.Logger] // nil: silent
}

// FixedDelay is how long SetDelayMessagePercent holds a datagram back while the maximum delay
// is 0, as in the course's lspnet.
const FixedDelay = 500 * time.Millisecond

func (f *Faults) percents() []*atomic.Int32 {
	return []*atomic.Int32{
		&f.clientReadDrop, &f.clientWriteDrop, &f.serverReadDrop, &f.serverWriteDrop,
		&f.shortenPercent, &f.lengthenPercent, &f.corruptPercent, &f.delayPercent,
	}
}

// setPercent stores p, clamped to 0..100, and recomputes active.
func (f *Faults) setPercent(v *atomic.Int32, p int) {
	v.Store(int32(min(max(p, 0), 100)))
	f.update()
}

func (f *Faults) update() {
	on := f.corruptAll.Load()
	for _, q := range f.percents() {
		on = on || q.Load() > 0
	}
	f.active.Store(on)
}

// SetReadDropPercent makes every socket discard p percent of the datagrams it reads.
func (f *Faults) SetReadDropPercent(p int) {
	f.SetClientReadDropPercent(p)
	f.SetServerReadDropPercent(p)
}

// SetWriteDropPercent makes every socket lose p percent of the datagrams it writes.
func (f *Faults) SetWriteDropPercent(p int) {
	f.SetClientWriteDropPercent(p)
	f.SetServerWriteDropPercent(p)
}

// SetClientReadDropPercent makes client sockets discard p percent of the datagrams they read.
func (f *Faults) SetClientReadDropPercent(p int) { f.setPercent(&f.clientReadDrop, p) }

// SetClientWriteDropPercent makes client sockets lose p percent of the datagrams they write.
func (f *Faults) SetClientWriteDropPercent(p int) { f.setPercent(&f.clientWriteDrop, p) }

// SetServerReadDropPercent makes server sockets discard p percent of the datagrams they read.
func (f *Faults) SetServerReadDropPercent(p int) { f.setPercent(&f.serverReadDrop, p) }

// SetServerWriteDropPercent makes server sockets lose p percent of the datagrams they write.
func (f *Faults) SetServerWriteDropPercent(p int) { f.setPercent(&f.serverWriteDrop, p) }

// SetDropPercent sets all four drop controls to p: loss in both directions on both sides.
func (f *Faults) SetDropPercent(p int) {
	f.SetReadDropPercent(p)
	f.SetWriteDropPercent(p)
}

// SetMsgShorteningPercent makes p percent of written LSP data messages lose the tail of their
// payload, so that their Size exceeds the payload's length.
func (f *Faults) SetMsgShorteningPercent(p int) { f.setPercent(&f.shortenPercent, p) }

// SetMsgLengtheningPercent makes p percent of written LSP data messages carry junk bytes after
// their payload, beyond their Size.
func (f *Faults) SetMsgLengtheningPercent(p int) { f.setPercent(&f.lengthenPercent, p) }

// SetMsgCorrupted, as in the course, corrupts every written LSP data message with a payload
// (one payload bit flipped, checksum left as it was) while on.
func (f *Faults) SetMsgCorrupted(on bool) {
	f.corruptAll.Store(on)
	f.update()
}

// SetMsgCorruptingPercent corrupts p percent of written LSP data messages the same way.
func (f *Faults) SetMsgCorruptingPercent(p int) { f.setPercent(&f.corruptPercent, p) }

// SetDelayMessagePercent holds back p percent of written datagrams: for FixedDelay (the
// course's 500 ms) while the maximum delay is 0, else for a random time of up to
// SetMaxDelayMillis, so that they arrive late and out of order.
func (f *Faults) SetDelayMessagePercent(p int) { f.setPercent(&f.delayPercent, p) }

// SetMaxDelayMillis makes delays random, up to ms milliseconds; 0 restores FixedDelay.
func (f *Faults) SetMaxDelayMillis(ms int) { f.maxDelayMillis.Store(int32(max(ms, 0))) }

// ResetDropPercent sets the four drop rates back to 0, as in the course; the other controls
// keep their values.
func (f *Faults) ResetDropPercent() {
	for _, q := range []*atomic.Int32{&f.clientReadDrop, &f.clientWriteDrop, &f.serverReadDrop, &f.serverWriteDrop} {
		q.Store(0)
	}
	f.update()
}

// ResetFaults puts the network back to perfect: every control to 0 and corruption off. The
// tap, the logger and sniffing are left as they are.
func (f *Faults) ResetFaults() {
	for _, q := range f.percents() {
		q.Store(0)
	}
	f.maxDelayMillis.Store(0)
	f.corruptAll.Store(false)
	f.update()
}

// SetLogger sends a record for every datagram the controls drop or damage to l; nil
// silences them (the default).
func (f *Faults) SetLogger(l *slog.Logger) { f.logger.Store(l) }

// EnableDebugLogs logs every datagram the controls drop or damage to stderr, or stops.
func (f *Faults) EnableDebugLogs(on bool) {
	if on {
		f.SetLogger(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	} else {
		f.SetLogger(nil)
	}
}

func (f *Faults) debug(msg string, args ...any) {
	if l := f.logger.Load(); l != nil {
		l.Info("lspnet: "+msg, args...)
	}
}

// chance reports true with the probability the control holds, in percent.
func chance(p *atomic.Int32) bool {
	v := p.Load()
	return v > 0 && (v >= 100 || rand.Int32N(100) < v)
}

func randN(n int) int { return rand.IntN(n) }

// delay returns how long to hold back a datagram about to be written, 0 for not at all.
func (f *Faults) delay() time.Duration {
	if !chance(&f.delayPercent) {
		return 0
	}
	if ms := f.maxDelayMillis.Load(); ms > 0 {
		return time.Duration(randN(int(ms)*1000)+1) * time.Microsecond
	}
	return FixedDelay
}

// defaultFaults is the process-wide set the course-named package-level controls act on. It is
// the only package-level state of lspnet, kept for the course's API; tests that want their own
// network use NewNetwork or NewMemNetwork.
var defaultFaults = new(Faults)

// SetReadDropPercent makes every socket of the default network discard p percent of reads.
func SetReadDropPercent(p int) { defaultFaults.SetReadDropPercent(p) }

// SetWriteDropPercent makes every socket of the default network lose p percent of writes.
func SetWriteDropPercent(p int) { defaultFaults.SetWriteDropPercent(p) }

// SetClientReadDropPercent is Faults.SetClientReadDropPercent on the default network.
func SetClientReadDropPercent(p int) { defaultFaults.SetClientReadDropPercent(p) }

// SetClientWriteDropPercent is Faults.SetClientWriteDropPercent on the default network.
func SetClientWriteDropPercent(p int) { defaultFaults.SetClientWriteDropPercent(p) }

// SetServerReadDropPercent is Faults.SetServerReadDropPercent on the default network.
func SetServerReadDropPercent(p int) { defaultFaults.SetServerReadDropPercent(p) }

// SetServerWriteDropPercent is Faults.SetServerWriteDropPercent on the default network.
func SetServerWriteDropPercent(p int) { defaultFaults.SetServerWriteDropPercent(p) }

// SetDropPercent is Faults.SetDropPercent on the default network.
func SetDropPercent(p int) { defaultFaults.SetDropPercent(p) }

// SetMsgShorteningPercent is Faults.SetMsgShorteningPercent on the default network.
func SetMsgShorteningPercent(p int) { defaultFaults.SetMsgShorteningPercent(p) }

// SetMsgLengtheningPercent is Faults.SetMsgLengtheningPercent on the default network.
func SetMsgLengtheningPercent(p int) { defaultFaults.SetMsgLengtheningPercent(p) }

// SetMsgCorrupted is Faults.SetMsgCorrupted on the default network: the course's control.
func SetMsgCorrupted(on bool) { defaultFaults.SetMsgCorrupted(on) }

// SetMsgCorruptingPercent is Faults.SetMsgCorruptingPercent on the default network.
func SetMsgCorruptingPercent(p int) { defaultFaults.SetMsgCorruptingPercent(p) }

// SetDelayMessagePercent is Faults.SetDelayMessagePercent on the default network.
func SetDelayMessagePercent(p int) { defaultFaults.SetDelayMessagePercent(p) }

// SetMaxDelayMillis is Faults.SetMaxDelayMillis on the default network.
func SetMaxDelayMillis(ms int) { defaultFaults.SetMaxDelayMillis(ms) }

// ResetDropPercent sets the default network's four drop rates back to 0 (course semantics).
func ResetDropPercent() { defaultFaults.ResetDropPercent() }

// ResetFaults puts the default network back to perfect.
func ResetFaults() { defaultFaults.ResetFaults() }

// EnableDebugLogs is Faults.EnableDebugLogs on the default network.
func EnableDebugLogs(on bool) { defaultFaults.EnableDebugLogs(on) }

// StartSniff is Faults.StartSniff on the default network.
func StartSniff() { defaultFaults.StartSniff() }

// StopSniff is Faults.StopSniff on the default network.
func StopSniff() SniffResult { return defaultFaults.StopSniff() }
