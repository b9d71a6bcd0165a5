package lspnet

import (
	"sync/atomic"
	"time"
)

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

// Tap is called for every datagram any socket of the process writes or reads, on the
// goroutine doing the I/O, before the datagram is sent or handed to the reader. A tap that
// blocks stalls that socket.
type Tap func(Datagram)

var currentTap atomic.Pointer[Tap]

// SetTap installs t as the process's tap (nil removes it) and returns a function that puts
// back the tap that was there before, for a test's Cleanup.
func SetTap(t Tap) (restore func()) {
	var p *Tap
	if t != nil {
		p = &t
	}
	old := currentTap.Swap(p)
	return func() { currentTap.Store(old) }
}

func tapping() bool { return currentTap.Load() != nil }

func tap(d Datagram) {
	if t := currentTap.Load(); t != nil {
		(*t)(d)
	}
}
