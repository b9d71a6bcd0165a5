package lsp

import (
	"errors"
	"math"
)

// Errors returned by Client and Server. Test for them with errors.Is.
var (
	// ErrClosed is returned by calls on a Client or Server after Close.
	ErrClosed = errors.New("lsp: closed")
	// ErrConnLost reports a connection whose peer was silent for EpochLimit epochs.
	ErrConnLost = errors.New("lsp: connection lost")
	// ErrNoServer is returned by NewClient when no server acked its Connect in time.
	ErrNoServer = errors.New("lsp: no answer from server")
	// ErrUnknownConn is returned by Server calls naming a connection id never handed out.
	ErrUnknownConn = errors.New("lsp: unknown connection")
	// ErrConnClosed is returned by Server.Write for a connection closed, lost or given to CloseConn.
	ErrConnClosed = errors.New("lsp: connection closed")
	// ErrTooLarge is returned by Write for a payload that cannot fit in one datagram.
	ErrTooLarge = errors.New("lsp: payload too large")
	// ErrBadSeqNum is returned by NewClient for an initial sequence number outside
	// [0, MaxInitialSeqNum]: a negative one would make a data ack look like a heartbeat.
	ErrBadSeqNum = errors.New("lsp: initial sequence number out of range")
)

// MaxPayload is the largest payload Write accepts: its base64 form plus the JSON around it
// must fit in one UDP datagram.
const MaxPayload = 47 << 10

// MaxInitialSeqNum is the largest initial sequence number, leaving room to count messages
// without overflow: 1<<62 with a 64-bit int, 1<<30 with a 32-bit one.
const MaxInitialSeqNum = min(1<<62, math.MaxInt/2+1)
