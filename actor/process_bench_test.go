package actor_test

import (
	"testing"
	"time"

	"ds440/actor"
	"ds440/actor/internal/actorbench"
	"ds440/internal/testutil"
)

// remotePeer starts an actorbench -serve process and a local system, and returns both ends.
func remotePeer(b *testing.B) (*actor.ActorSystem, actor.ActorRef) {
	bin := testutil.BuildBinary(b, "ds440/actor/cmd/actorbench")
	p := testutil.StartProc(b, bin, "-serve")
	addr := p.WaitLine(b, `serving on (\S+)`, procWait)[1]
	sys, _ := localSystem(b)
	return sys, actor.ActorRef{Address: addr, Counter: 1}
}

// BenchmarkRemoteTwoProcesses streams b.N messages from this process to a checker actor in
// another, over loopback TCP, with the flow control of actorbench (two chunks unconfirmed).
func BenchmarkRemoteTwoProcesses(b *testing.B) {
	sys, checker := remotePeer(b)
	b.ResetTimer()
	r, d, err := actorbench.Stream(sys, checker, "bench", b.N, 10*time.Minute)
	if err != nil || r.Count != b.N || r.OutOfOrder != 0 {
		b.Fatalf("stream: %+v, %v", r, err)
	}
	b.ReportMetric(float64(b.N)/d.Seconds(), "msgs/s")
}

// BenchmarkRemoteRoundTripTwoProcesses times a question to an actor in another process and its
// answer to a channel ref: one message each way.
func BenchmarkRemoteRoundTripTwoProcesses(b *testing.B) {
	sys, checker := remotePeer(b)
	b.ResetTimer()
	for range b.N {
		reply, answer := sys.NewChannelRef()
		sys.Tell(&checker, actorbench.Report{ReplyTo: *reply, Stream: "ping"})
		select {
		case <-answer:
		case <-time.After(procWait):
			b.Fatal("no answer")
		}
	}
}
