package lsp

import (
	"errors"
	"fmt"
	"time"
)

// Params tunes a connection. Both ends of a connection should use the same values.
type Params struct {
	EpochLimit         int // epochs with nothing heard from the peer before the connection is declared lost
	EpochMillis        int // length of an epoch
	WindowSize         int // a message with seq s may be sent only if s < oldest unacked seq + WindowSize
	MaxBackOffInterval int // cap, in epochs, on the gap between two retransmissions of one message
	MaxUnackedMessages int // at most this many sent-but-unacked messages at once

	// Epoch is the length of an epoch as a Duration, for epochs that are not a whole number
	// of milliseconds and for callers that keep times as Durations. When it is non-zero it is
	// used and EpochMillis is ignored; EpochMillis stays for the course's API.
	Epoch time.Duration
}

// epoch returns the length of an epoch of validated params.
func (p *Params) epoch() time.Duration {
	if p.Epoch > 0 {
		return p.Epoch
	}
	return time.Duration(p.EpochMillis) * time.Millisecond
}

// Defaults used by NewParams.
const (
	DefaultEpochLimit         = 5
	DefaultEpochMillis        = 2000
	DefaultWindowSize         = 1
	DefaultMaxBackOffInterval = 0
	DefaultMaxUnackedMessages = 1
)

// NewParams returns the default parameters.
func NewParams() *Params {
	return &Params{
		EpochLimit:         DefaultEpochLimit,
		EpochMillis:        DefaultEpochMillis,
		WindowSize:         DefaultWindowSize,
		MaxBackOffInterval: DefaultMaxBackOffInterval,
		MaxUnackedMessages: DefaultMaxUnackedMessages,
	}
}

// String renders the parameters for logs.
func (p *Params) String() string {
	epoch := fmt.Sprintf("EpochMillis: %d", p.EpochMillis)
	if p.Epoch != 0 {
		epoch = fmt.Sprintf("Epoch: %v", p.Epoch)
	}
	return fmt.Sprintf("[EpochLimit: %d, %s, WindowSize: %d, MaxBackOffInterval: %d, MaxUnackedMessages: %d]",
		p.EpochLimit, epoch, p.WindowSize, p.MaxBackOffInterval, p.MaxUnackedMessages)
}

// ErrBadParams reports parameters no connection can run with.
var ErrBadParams = errors.New("lsp: invalid params")

// validate returns a copy of p (NewParams() if p is nil) after checking that every field is in
// range, so a caller changing its Params later cannot affect a running connection.
func (p *Params) validate() (Params, error) {
	if p == nil {
		return *NewParams(), nil
	}
	switch {
	case p.EpochLimit < 1:
		return Params{}, fmt.Errorf("%w: EpochLimit %d < 1", ErrBadParams, p.EpochLimit)
	case p.Epoch < 0:
		return Params{}, fmt.Errorf("%w: Epoch %v < 0", ErrBadParams, p.Epoch)
	case p.Epoch == 0 && p.EpochMillis < 1:
		return Params{}, fmt.Errorf("%w: EpochMillis %d < 1", ErrBadParams, p.EpochMillis)
	case p.WindowSize < 1:
		return Params{}, fmt.Errorf("%w: WindowSize %d < 1", ErrBadParams, p.WindowSize)
	case p.MaxBackOffInterval < 0:
		return Params{}, fmt.Errorf("%w: MaxBackOffInterval %d < 0", ErrBadParams, p.MaxBackOffInterval)
	case p.MaxUnackedMessages < 1:
		return Params{}, fmt.Errorf("%w: MaxUnackedMessages %d < 1", ErrBadParams, p.MaxUnackedMessages)
	}
	return *p, nil
}
