package lspnet

import (
	"encoding/json"
	"strings"
	"testing"

	"ds440/internal/testutil"
)

func frame(typ, seq int) []byte {
	b, _ := json.Marshal(Frame{Type: typ, ConnID: 7, SeqNum: seq, Size: 1, Payload: []byte{1}})
	return b
}

func TestMonitor(t *testing.T) {
	// Not parallel: CheckGoroutines counts the whole process's goroutines.
	testutil.CheckGoroutines(t)
	n, srv, cli := pair(t)
	m := n.Watch(Limits{WindowSize: 3, MaxUnackedMessages: 2})
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			m.Stop()
		}
	})

	cli.Write(frame(TypeData, 1))
	cli.Write(frame(TypeData, 2))
	_, caddr := readFrom(t, srv)
	readFrom(t, srv)
	srv.WriteToUDP(frame(TypeAck, 1), caddr)
	srv.WriteToUDP(frame(TypeAck, 0), caddr) // a heartbeat acks nothing
	read(t, cli)                             // the ack counts once the sender's socket reads it
	read(t, cli)
	cli.Write(frame(TypeData, 1)) // a resend of an acked message: not new
	cli.Write(frame(TypeData, 2)) // a resend
	cli.Write(frame(TypeData, 3)) // unacked {2,3}: within both limits
	cli.Write(frame(TypeData, 4)) // unacked {2,3,4}: over the cap of 2
	srv.WriteToUDP(frame(TypeCAck, 3), caddr)
	read(t, cli)
	cli.Write(frame(TypeData, 7)) // unacked {4,7}: 7 is outside the window 4..6
	r := m.Stop()
	stopped = true

	if r.Flows != 1 || r.Sent != 5 || r.Resent != 2 || r.MaxInFlight != 3 {
		t.Errorf("report %+v, want 1 flow, 5 sent, 2 resent, at most 3 in flight", r)
	}
	if len(r.Violations) != 2 ||
		!strings.Contains(r.Violations[0], "3 unacked (cap 2)") ||
		!strings.Contains(r.Violations[1], "oldest unacked 4 (window 3)") {
		t.Errorf("violations %q", r.Violations)
	}
}
