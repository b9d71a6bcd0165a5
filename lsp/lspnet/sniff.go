package lspnet

import "sync/atomic"

// SniffResult counts the LSP datagrams a Network's sockets wrote between StartSniff and
// StopSniff. A datagram counts as sent when a socket writes it, even if the controls then lose
// it; it counts as dropped when the controls lose it, on write or on read. Acks include
// heartbeats (Ack 0).
type SniffResult struct {
	NumSentACKs    int
	NumDroppedACKS int
	NumSentData    int
	NumDroppedData int

	NumSentCAcks    int // cumulative acks written
	NumSentConnects int // connection requests written
}

type sniffCounters struct {
	sentAcks, droppedAcks, sentData, droppedData, sentCAcks, sentConnects atomic.Int64
}

func (s *sniffCounters) reset() {
	for _, c := range []*atomic.Int64{&s.sentAcks, &s.droppedAcks, &s.sentData, &s.droppedData, &s.sentCAcks, &s.sentConnects} {
		c.Store(0)
	}
}

func (s *sniffCounters) count(d Datagram) {
	f, err := ParseHeader(d.Data)
	if err != nil {
		return
	}
	if d.Op == Write {
		switch f.Type {
		case TypeData:
			s.sentData.Add(1)
		case TypeAck:
			s.sentAcks.Add(1)
		case TypeCAck:
			s.sentCAcks.Add(1)
		case TypeConnect:
			s.sentConnects.Add(1)
		}
	}
	if d.Dropped {
		switch f.Type {
		case TypeData:
			s.droppedData.Add(1)
		case TypeAck:
			s.droppedAcks.Add(1)
		}
	}
}

// StartSniff zeroes f's counters and starts counting.
func (f *Faults) StartSniff() {
	f.sniff.reset()
	f.sniffing.Store(true)
}

// StopSniff stops counting and returns what was counted since StartSniff.
func (f *Faults) StopSniff() SniffResult {
	f.sniffing.Store(false)
	s := &f.sniff
	return SniffResult{
		NumSentACKs: int(s.sentAcks.Load()), NumDroppedACKS: int(s.droppedAcks.Load()),
		NumSentData: int(s.sentData.Load()), NumDroppedData: int(s.droppedData.Load()),
		NumSentCAcks: int(s.sentCAcks.Load()), NumSentConnects: int(s.sentConnects.Load()),
	}
}
