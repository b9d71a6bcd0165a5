package lspnet

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

// TestMemNetwork checks the in-memory sockets behave as UDP ones do for lsp: datagrams between
// a dialed and a listening socket, a dialed socket hearing only its peer, Close unblocking a
// read and reporting net.ErrClosed, deadlines, and loss to a port nobody holds.
func TestMemNetwork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n, srv, cli := pairOn(t, NewMemNetwork())
		if _, err := cli.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		got, from := readFrom(t, srv)
		if string(got) != "ping" || from.String() != cli.LocalAddr().String() {
			t.Fatalf("server read %q from %v", got, from)
		}
		// A stranger's datagram does not reach the dialed socket.
		other, err := n.ListenUDP("udp", nil)
		if err != nil {
			t.Fatal(err)
		}
		other.WriteToUDP([]byte("stranger"), cli.LocalAddr())
		srv.WriteToUDP([]byte("pong"), from)
		if got := read(t, cli); string(got) != "pong" {
			t.Fatalf("client read %q", got)
		}
		// Nobody listens on the stranger's port once it is closed: the datagram is lost.
		addr := other.LocalAddr()
		if err := other.Close(); err != nil {
			t.Fatal(err)
		}
		if err := other.Close(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second Close: %v", err)
		}
		srv.WriteToUDP([]byte("lost"), addr)

		srv.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := srv.ReadFromUDP(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past the deadline: %v", err)
		}
		srv.SetReadDeadline(time.Time{})
		done := make(chan error)
		go func() {
			_, _, err := srv.ReadFromUDP(make([]byte, 10))
			done <- err
		}()
		synctest.Wait()
		srv.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a closed socket: %v", err)
		}
		if _, err := n.ListenUDP("udp", cli.LocalAddr()); err == nil {
			t.Fatal("listened on a port in use")
		}
	})
}

// TestFixedDelay checks the course's meaning of SetDelayMessagePercent: with no maximum set,
// a delayed datagram arrives exactly 500 ms late. Time is synctest's, so this costs nothing.
func TestFixedDelay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n, srv, cli := pairOn(t, NewMemNetwork())
		n.SetDelayMessagePercent(100)
		start := time.Now()
		cli.Write([]byte("late"))
		got, _ := readFrom(t, srv)
		if string(got) != "late" || time.Since(start) != FixedDelay {
			t.Fatalf("read %q after %v, want late after %v", got, time.Since(start), FixedDelay)
		}
		n.SetMaxDelayMillis(20)
		start = time.Now()
		cli.Write([]byte("sooner"))
		readFrom(t, srv)
		if d := time.Since(start); d <= 0 || d > 20*time.Millisecond {
			t.Fatalf("random delay %v, want in (0, 20ms]", d)
		}
	})
}

// TestMsgCorrupted checks the course's switch: every data payload corrupted, nothing else.
func TestMsgCorrupted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n, srv, cli := pairOn(t, NewMemNetwork())
		n.SetMsgCorrupted(true)
		for range 20 {
			sent := dataFrame("payload")
			cli.Write(sent)
			got, _ := readFrom(t, srv)
			if bytes.Equal(got, sent) {
				t.Fatal("a data message went through uncorrupted")
			}
		}
		ack := []byte(`{"Type":2,"ConnID":7,"SeqNum":3,"Size":0,"Checksum":0,"Payload":null}`)
		cli.Write(ack)
		if got, _ := readFrom(t, srv); !bytes.Equal(got, ack) {
			t.Fatalf("an ack was changed to %q", got)
		}
		n.SetMsgCorrupted(false)
		cli.Write(dataFrame("payload"))
		if got, _ := readFrom(t, srv); !bytes.Equal(got, dataFrame("payload")) {
			t.Fatal("corrupted after SetMsgCorrupted(false)")
		}
	})
}

// TestSniff counts data and acks sent and dropped.
func TestSniff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n, srv, cli := pairOn(t, NewMemNetwork())
		ack := []byte(`{"Type":2,"ConnID":7,"SeqNum":3,"Size":0,"Checksum":0,"Payload":null}`)
		cli.Write(ack) // before sniffing: not counted
		_, caddr := readFrom(t, srv)
		n.StartSniff()
		for range 3 {
			cli.Write(dataFrame("x"))
			readFrom(t, srv)
		}
		srv.WriteToUDP(ack, caddr)
		read(t, cli)
		n.SetClientWriteDropPercent(100)
		cli.Write(dataFrame("x"))
		cli.Write(ack)
		n.SetClientWriteDropPercent(0)
		n.SetServerReadDropPercent(100)
		cli.Write(ack)
		srv.SetReadDeadline(time.Now().Add(time.Second))
		srv.ReadFromUDP(make([]byte, 100)) // reads and drops it, then times out
		got := n.StopSniff()
		want := SniffResult{NumSentData: 4, NumDroppedData: 1, NumSentACKs: 3, NumDroppedACKS: 2}
		if got != want {
			t.Fatalf("sniffed %+v, want %+v", got, want)
		}
		cli.Write(ack)
		if n.StopSniff() != want {
			t.Fatal("counted after StopSniff")
		}
	})
}

// TestDefaultControls checks that the course-named package-level controls act on the
// process-wide default set, and only on it. Not parallel: it changes that set.
func TestDefaultControls(t *testing.T) {
	t.Cleanup(ResetFaults)
	SetReadDropPercent(10)
	SetWriteDropPercent(20)
	SetMsgShorteningPercent(1)
	SetMsgLengtheningPercent(2)
	SetMsgCorrupted(true)
	SetMsgCorruptingPercent(3)
	SetDelayMessagePercent(4)
	SetMaxDelayMillis(5)
	d := defaultFaults
	if d.clientReadDrop.Load() != 10 || d.serverReadDrop.Load() != 10 || d.clientWriteDrop.Load() != 20 ||
		d.serverWriteDrop.Load() != 20 || d.shortenPercent.Load() != 1 || d.lengthenPercent.Load() != 2 ||
		!d.corruptAll.Load() || d.corruptPercent.Load() != 3 || d.delayPercent.Load() != 4 || d.maxDelayMillis.Load() != 5 {
		t.Fatal("a package-level control did not reach the default set")
	}
	n := NewNetwork()
	if n.active.Load() {
		t.Fatal("a new network inherited the default set's faults")
	}
	ResetDropPercent()
	if d.clientReadDrop.Load() != 0 || d.serverWriteDrop.Load() != 0 || d.shortenPercent.Load() != 1 {
		t.Fatal("ResetDropPercent: want the drop rates cleared and nothing else")
	}
	ResetFaults()
	if d.active.Load() {
		t.Fatal("ResetFaults left a control set")
	}
	StartSniff()
	if s := StopSniff(); s != (SniffResult{}) {
		t.Fatalf("sniffed %+v on a quiet default network", s)
	}
	EnableDebugLogs(true)
	EnableDebugLogs(false)
}
