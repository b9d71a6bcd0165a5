package lsp

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"ds440/lsp/lspnet"
)

// TestWriterSendsDataFirst sends a batch with acks and data interleaved over the operating
// system's UDP (batched and, on Linux, segmented) and checks that every datagram arrives on its
// own, data first and then acks, each kind in the order given.
func TestWriterSendsDataFirst(t *testing.T) {
	t.Parallel()
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	to, err := lspnet.ResolveUDPAddr("udp", rx.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := lspnet.NewNetwork().DialUDP("udp", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	batch := []Message{
		{Type: MsgAck, ConnID: 1, SeqNum: 7},
		newData(1, 8, []byte("first")),
		{Type: MsgAck, ConnID: 1, SeqNum: 9},
		newData(1, 10, []byte("second, longer")),
		newData(1, 11, []byte("third")),
	}
	want := []int{8, 10, 11, 7, 9} // SeqNums in the order they must arrive
	newWriter(tx, slog.New(slog.DiscardHandler)).send(batch, nil)

	// Loopback neither loses nor reorders these; the deadline only keeps a failure from hanging.
	rx.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, MaxDatagram)
	for i, seq := range want {
		n, err := rx.Read(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		var m Message
		if err := Unmarshal(buf[:n], &m); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if m.SeqNum != seq {
			t.Fatalf("datagram %d is %v, want SeqNum %d (order %v)", i, &m, seq, want)
		}
	}
}
