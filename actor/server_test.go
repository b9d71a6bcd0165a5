package actor

import (
	"net"
	"testing"
	"testing/synctest"

	"ds440/internal/tcpserve/tcpservetest"
	"ds440/internal/testutil"
)

// flakyTransport is a Transport whose listeners fail their first Accepts.
type flakyTransport struct {
	Transport
	fails     int
	listeners chan *tcpservetest.Listener
}

func (f flakyTransport) Listen(addr string) (net.Listener, error) {
	ln, err := f.Transport.Listen(addr)
	if err != nil {
		return nil, err
	}
	l := tcpservetest.Wrap(ln, f.fails)
	f.listeners <- l
	return l, nil
}

// A system whose Accepts fail for a while (out of file descriptors) backs off and keeps
// serving: remote tells arrive once Accept works again.
func TestAcceptErrorsDoNotStopTheSystem(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		network := NewInmemNetwork()
		flaky := flakyTransport{Transport: network, fails: 5, listeners: make(chan *tcpservetest.Listener, 1)}
		dst, err := New(Config{Transport: flaky})
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		ln := <-flaky.listeners
		src := newSystemOn(t, network, Faults{})

		ref, got := dst.NewChannelRef()
		src.Tell(ref, "through")
		if m := testutil.Recv(t, got, waitLong); m != "through" {
			t.Fatalf("received %v", m)
		}
		if n := ln.Failed(); n != 5 {
			t.Fatalf("%d Accepts failed, want 5", n)
		}
	})
}
