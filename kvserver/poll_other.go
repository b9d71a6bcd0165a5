//go:build !linux

package kvserver

import (
	"errors"
	"net"
)

// errNoPoller means the platform has no event loop: the server takes the portable path.
var errNoPoller = errors.New("no event loop on this platform")

// poller is the event loop's state, which only Linux has; see poll_linux.go.
type poller struct{}

func newPoller(net.Listener, bool) (*poller, error) { return nil, errNoPoller }

// The event loop's operations are never reached without a poller.
func (s *Server) pollLoop()            {}
func (s *Server) sendRound()           {}
func (p *poller) wake()                {}
func (p *poller) closeListener()       {}
func (p *poller) queue(*client)        {}
func (s *Server) closePolled(*client)  {}
func writeFD(int, []byte) (int, error) { return 0, nil }

// quickAck does nothing: TCP_QUICKACK is Linux's.
func quickAck(*client) {}
