package lspnet

import "time"

// Op says whether a tapped datagram was being written or read.
type Op uint8

// The two operations a tap sees.
const (
	Write Op = iota + 1
	Read
)

// String returns "write" or "read".
func (o Op) String() string {
	switch o {
	case Write:
		return "write"
	case Read:
		return "read"
	}
	return "op?"
}

// Datagram is one datagram as a tap sees it.
type Datagram struct {
	Side    Side          // the side of the socket writing or reading it
	Op      Op            // Write: handed to the network; Read: arrived at the socket
	Local   string        // the socket's own address
	Remote  string        // the peer's address
	Data    []byte        // the bytes as they go on the wire, after any damage; valid only during the call
	Dropped bool          // the drop controls lost it: a write never leaves, a read never reaches the reader
	Delay   time.Duration // how long the delay control holds a write back
}

// Tap is called for every datagram a socket of its Network writes or reads, on the goroutine
// doing the I/O, before the datagram is sent or handed to the reader. A tap that blocks stalls
// that socket.
type Tap func(Datagram)

// SetTap installs t as the tap of f's sockets (nil removes it) and returns a function that
// puts back the tap that was there before, for a test's Cleanup.
func (f *Faults) SetTap(t Tap) (restore func()) {
	var p *Tap
	if t != nil {
		p = &t
	}
	old := f.tap.Swap(p)
	return func() { f.tap.Store(old) }
}

// SetTap is Faults.SetTap on the default network.
func SetTap(t Tap) (restore func()) { return defaultFaults.SetTap(t) }

// observing reports whether a datagram must be shown to the tap or counted by the sniffer.
func (f *Faults) observing() bool { return f.tap.Load() != nil || f.sniffing.Load() }

// observe shows d to the tap and the sniffer.
func (f *Faults) observe(d Datagram) {
	if t := f.tap.Load(); t != nil {
		(*t)(d)
	}
	if f.sniffing.Load() {
		f.sniff.count(d)
	}
}
