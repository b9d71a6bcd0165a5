package lsp

import (
	"log/slog"

	"ds440/lsp/lspnet"
)

// Option configures a Client or Server beyond its Params: where it logs and which network it
// opens its socket on. The options' types use only the contract's lspnet names, so a test's
// own faulty network (lspnet.NewNetwork, lspnet.NewMemNetwork) or any other lspnet with the
// contract's surface can be plugged in.
type Option func(*options)

type options struct {
	log    *slog.Logger
	dial   func(network string, laddr, raddr *lspnet.UDPAddr) (*lspnet.UDPConn, error)
	listen func(network string, laddr *lspnet.UDPAddr) (*lspnet.UDPConn, error)
}

func newOptions(opts []Option) options {
	o := options{log: discard, dial: lspnet.DialUDP, listen: lspnet.ListenUDP}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

var discard = slog.New(slog.DiscardHandler)

// WithLogger sends the endpoint's log records (connections opened and lost, socket errors) to
// l. Without it, or with a nil l, an endpoint is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			l = discard
		}
		o.log = l
	}
}

// WithDial makes a Client open its socket with dial instead of lspnet.DialUDP, for instance
// the DialUDP method of a test's own lspnet.Network.
func WithDial(dial func(network string, laddr, raddr *lspnet.UDPAddr) (*lspnet.UDPConn, error)) Option {
	return func(o *options) {
		if dial != nil {
			o.dial = dial
		}
	}
}

// WithListen makes a Server open its socket with listen instead of lspnet.ListenUDP, for
// instance the ListenUDP method of a test's own lspnet.Network.
func WithListen(listen func(network string, laddr *lspnet.UDPAddr) (*lspnet.UDPConn, error)) Option {
	return func(o *options) {
		if listen != nil {
			o.listen = listen
		}
	}
}
