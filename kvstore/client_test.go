package kvstore

import (
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// fakeReceiver stands in for a query actor: it counts calls, and Get waits until `overlap`
// Gets are in flight at once (or a deadline), proving the client does not serialise them.
type fakeReceiver struct {
	calls   atomic.Int32
	overlap int32
	inGet   atomic.Int32
	arrived chan struct{}
}

func (f *fakeReceiver) Get(args *GetArgs, reply *GetReply) error {
	f.calls.Add(1)
	if f.overlap > 0 {
		if f.inGet.Add(1) == f.overlap {
			close(f.arrived)
		}
		select {
		case <-f.arrived:
		case <-time.After(5 * time.Second):
			return errors.New("fake: the other Gets never arrived")
		}
	}
	reply.Value, reply.Ok = "value of "+args.Key, true
	return nil
}

func (f *fakeReceiver) Put(args *PutArgs, reply *PutReply) error {
	f.calls.Add(1)
	return nil
}

func (f *fakeReceiver) List(args *ListArgs, reply *ListReply) error {
	f.calls.Add(1)
	return nil // nil Entries: the client must still return a non-nil map
}

func serveFake(t *testing.T, f *fakeReceiver) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := rpc.NewServer()
	if err := s.RegisterName("QueryReceiver", f); err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { s.ServeConn(c) })
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// countingRouter records how often it is asked.
type countingRouter struct {
	addrs []string
	asked atomic.Int32
}

func (r *countingRouter) NextAddr() string {
	n := r.asked.Add(1)
	return r.addrs[int(n-1)%len(r.addrs)]
}

func TestClientOneRPCPerCallAndRouterEveryCall(t *testing.T) {
	t.Parallel()
	f1, f2 := &fakeReceiver{}, &fakeReceiver{}
	router := &countingRouter{addrs: []string{serveFake(t, f1), serveFake(t, f2)}}
	c := NewClient(router)
	defer c.Close()
	if v, ok, err := c.Get("k"); v != "value of k" || !ok || err != nil {
		t.Errorf("Get = %q, %v, %v", v, ok, err)
	}
	if err := c.Put("k", "v"); err != nil {
		t.Error(err)
	}
	m, err := c.List("p")
	if err != nil || m == nil {
		t.Errorf("List = %v, %v; want a non-nil map", m, err)
	}
	c.Get("again")
	if got := router.asked.Load(); got != 4 {
		t.Errorf("router asked %d times for 4 calls", got)
	}
	if got := f1.calls.Load() + f2.calls.Load(); got != 4 {
		t.Errorf("%d RPCs for 4 calls", got)
	}
	if f1.calls.Load() != 2 || f2.calls.Load() != 2 {
		t.Errorf("calls split %d/%d, want the router's 2/2", f1.calls.Load(), f2.calls.Load())
	}
}

func TestClientCallsOverlap(t *testing.T) {
	t.Parallel()
	f := &fakeReceiver{overlap: 3, arrived: make(chan struct{})}
	c := NewClient(fixedRouter(serveFake(t, f)))
	defer c.Close()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, _, err := c.Get("k"); err != nil {
				t.Error(err) // the fake fails a Get that waited alone
			}
		})
	}
	testutil.Within(t, 10*time.Second, "three concurrent Gets", wg.Wait)
}

func TestClientErrorsAndClose(t *testing.T) {
	t.Parallel()
	c := NewClient(fixedRouter(fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))))
	if _, _, err := c.Get("k"); err == nil {
		t.Error("Get from nowhere succeeded")
	}
	if m, err := c.List(""); err == nil || m == nil {
		t.Errorf("List from nowhere = %v, %v; want an error and a non-nil map", m, err)
	}
	c.Close()
	c.Close()
	if err := c.Put("k", "v"); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Put after Close = %v", err)
	}
}
