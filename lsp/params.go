package lsp

import (
	"errors"
	"fmt"
)

// Params tunes a connection. Both ends of a connection should use the same values.
type Params struct {
	EpochLimit         int // epochs with nothing heard from the peer before the connection is declared lost
	EpochMillis        int // length of an epoch
	WindowSize         int // a message with seq s may be sent only if s < oldest unacked seq + WindowSize
	MaxBackOffInterval int // cap, in epochs, on the gap between two retransmissions of one message
	MaxUnackedMessages int // at most this many sent-but-unacked messages at once
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
	return fmt.Sprintf("[EpochLimit: %d, EpochMillis: %d, WindowSize: %d, MaxBackOffInterval: %d, MaxUnackedMessages: %d]",
		p.EpochLimit, p.EpochMillis, p.WindowSize, p.MaxBackOffInterval, p.MaxUnackedMessages)
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
	case p.EpochMillis < 1:
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
