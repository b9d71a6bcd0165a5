package actor

import (
	"bytes"
	"encoding/gob"
	"errors"
	"net"
	"net/rpc"
	"testing"
	"time"

	"ds440/actor/internal/wire"
	"ds440/internal/testutil"
)

func TestBadAddresses(t *testing.T) {
	t.Parallel()
	for _, port := range []int{-1, 65536} {
		if _, err := NewActorSystem(port); !errors.Is(err, ErrBadAddress) {
			t.Errorf("NewActorSystem(%d) = %v, want ErrBadAddress", port, err)
		}
	}
	for _, addr := range []string{"no-port", "127.0.0.1:99999"} {
		if _, err := New(Config{Addr: addr}); !errors.Is(err, ErrBadAddress) {
			t.Errorf("New with Addr %q = %v, want ErrBadAddress", addr, err)
		}
	}
	sys := newSystem(t)
	if _, err := New(Config{Addr: sys.Addr()}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("New on a port in use = %v, want ErrBadAddress", err)
	}
}

func TestGarbageOnTheWireIsSurvived(t *testing.T) {
	testutil.CheckGoroutines(t)
	sys := newSystem(t)
	ref, got := startProbe(sys, 1)
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.0\r\n\r\n"),
		bytes.Repeat([]byte{0xff}, 4096),
		validRequest(t, "ActorSystem.Nope", &wire.Batch{}),
		validRequest(t, wire.Method, &wire.Batch{Messages: []wire.Envelope{{To: 12345, Size: -5, Message: seqMsg{}}}}),
	} {
		conn, err := net.Dial("tcp", sys.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(junk)
		conn.Close()
	}
	sys.Tell(ref, seqMsg{N: 1})
	if m := testutil.Recv(t, got, waitLong).(seqMsg); m.N != 1 {
		t.Fatalf("after the garbage the actor got %v", m)
	}
	if n := sys.Stats().RemoteBytesReceived; n != 0 {
		t.Fatalf("RemoteBytesReceived = %d from a negative size", n)
	}
}

// validRequest is what a net/rpc client writes for one call.
func validRequest(t testing.TB, method string, args any) []byte {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(&rpc.Request{ServiceMethod: method, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(args); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzRemoteInput feeds arbitrary bytes to the system's net/rpc endpoint as a connection
// would: it must neither panic nor hang, and whatever decodes as a batch is delivered safely.
func FuzzRemoteInput(f *testing.F) {
	f.Add(validRequest(f, wire.Method, &wire.Batch{From: "x", Messages: []wire.Envelope{{To: 1, Size: 3, Message: seqMsg{N: 1}}}}))
	f.Add(validRequest(f, wire.Method, &wire.Batch{Messages: []wire.Envelope{{To: -1, Message: "hi"}}}))
	f.Add([]byte{0x00})
	sys, err := NewActorSystem(0)
	if err != nil {
		f.Fatal(err)
	}
	defer sys.Close()
	sys.StartActor(func(ctx *ActorContext) Actor { return &probe{ctx: ctx, got: make(chan any, 1<<20)} })
	sys.NewChannelRef()
	f.Fuzz(func(t *testing.T, data []byte) {
		server, client := net.Pipe()
		done := make(chan struct{})
		go func() {
			sys.rpcServer.ServeConn(server)
			close(done)
		}()
		go func() {
			client.SetDeadline(time.Now().Add(time.Second))
			client.Write(data)
			client.Close()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("ServeConn did not return after the connection closed")
		}
	})
}
