package kvstore

import (
	"net"
	"sync"
	"testing"

	"ds440/actor"
	"ds440/internal/tcpserve/tcpservetest"
)

// flakyTransport is a Transport whose listeners fail their first Accepts.
type flakyTransport struct {
	actor.Transport
	fails int

	mu        sync.Mutex
	listeners []*tcpservetest.Listener
}

func (f *flakyTransport) Listen(addr string) (net.Listener, error) {
	ln, err := f.Transport.Listen(addr)
	if err != nil {
		return nil, err
	}
	l := tcpservetest.Wrap(ln, f.fails)
	f.mu.Lock()
	f.listeners = append(f.listeners, l)
	f.mu.Unlock()
	return l, nil
}

// A server whose query listeners fail their Accepts for a while (out of file descriptors)
// backs off and keeps serving: a Put and a Get to each query actor go through once Accept works again.
func TestAcceptErrorsDoNotStopTheServer(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		flaky := &flakyTransport{Transport: actor.NewInmemNetwork(), fails: 4}
		s, err := New(Config{Transport: flaky, QueryActors: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i, addr := range s.QueryAddrs() {
			c := NewClientConfig(ClientConfig{Router: &roundRobin{addrs: []string{addr}}, Transport: flaky})
			defer c.Close()
			if err := c.Put(addr, "v"); err != nil {
				t.Fatalf("Put to query actor %d: %v", i+1, err)
			}
			if v, ok, err := c.Get(addr); v != "v" || !ok || err != nil {
				t.Fatalf("Get from query actor %d = %q, %v, %v", i+1, v, ok, err)
			}
		}
		flaky.mu.Lock()
		defer flaky.mu.Unlock()
		if len(flaky.listeners) != 3 {
			t.Fatalf("%d listeners, want 3 (the actor system's and two query actors')", len(flaky.listeners))
		}
		for i, l := range flaky.listeners[1:] {
			if n := l.Failed(); n != 4 {
				t.Errorf("query actor %d: %d Accepts failed, want 4", i+1, n)
			}
		}
	})
}
