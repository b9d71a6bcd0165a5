package kvstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"ds440/actor"
)

// testNode builds actor index of a server at addr with n actors (counters 10, 11, ...), with a
// clock the test moves.
func testNode(addr string, n, index int, clock *int64, remotes ...serverDesc) *node {
	self := serverDesc{Addr: addr}
	for i := range n {
		self.Counters = append(self.Counters, 10+i)
	}
	nd := newNode(self.ref(index), func() int64 { return *clock })
	nd.handle(configMsg{Self: self, Index: index, Remotes: remotes})
	return nd
}

func desc(addr string, n int) serverDesc {
	d := serverDesc{Addr: addr}
	for i := range n {
		d.Counters = append(d.Counters, 10+i)
	}
	return d
}

// sent lists "uid:type" for the envelopes, ticks left out.
func sent(out []envelope) []string {
	var s []string
	for _, e := range out {
		if _, ok := e.Msg.(tickMsg); ok || e.To == nil {
			continue
		}
		s = append(s, fmt.Sprintf("%s:%T", e.To.Uid(), e.Msg))
	}
	slices.Sort(s)
	return s
}

func reply() *actor.ActorRef { return &actor.ActorRef{Address: "chan", Counter: 1} }

func TestNodeAnswersQueriesFromItsReplica(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("a:1", 1, 0, &clock)
	n.handle(putMsg{Key: "k", Value: "v", Reply: reply()})
	out := n.handle(getMsg{Key: "k", Reply: reply()})
	if len(out) != 1 || out[0].Msg != (getResult{Value: "v", Ok: true}) {
		t.Errorf("get = %+v", out)
	}
	out = n.handle(getMsg{Key: "missing", Reply: reply()})
	if out[0].Msg != (getResult{}) {
		t.Errorf("get missing = %+v", out)
	}
	out = n.handle(listMsg{Prefix: "", Reply: reply()})
	if got := out[0].Msg.(listResult).Entries; len(got) != 1 || got["k"] != "v" {
		t.Errorf("list = %v", got)
	}
}

// A Put goes at once to every local actor and to one actor of each remote server; Puts that
// follow within syncInterval wait for the timer and then go together, one message per peer.
// Once the remote batches are acknowledged, the actor falls quiet.
func TestNodeSendsPutsOncePerPeer(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("a:1", 3, 1, &clock, desc("b:1", 4), desc("c:1", 1))
	out := n.handle(putMsg{Key: "x", Value: "1", Reply: reply()})
	want := []string{"a:1/10:kvstore.localSync", "a:1/12:kvstore.localSync", "b:1/11:kvstore.remoteSync",
		"c:1/10:kvstore.remoteSync", "chan/1:kvstore.putResult"}
	if got := sent(out); !slices.Equal(got, want) {
		t.Errorf("first put sent %v, want %v", got, want)
	}
	if timers := ticks(out); len(timers) != 1 || timers[0] != syncInterval {
		t.Errorf("timers %v, want one to wait for the acknowledgements", timers)
	}
	clock += 50
	out = n.handle(putMsg{Key: "y", Value: "2", Reply: reply()})
	out = append(out, n.handle(putMsg{Key: "z", Value: "3", Reply: reply()})...)
	if got := sent(out); !slices.Equal(got, []string{"chan/1:kvstore.putResult", "chan/1:kvstore.putResult"}) {
		t.Errorf("puts within the interval sent %v", got)
	}
	if timers := ticks(out); len(timers) != 0 {
		t.Errorf("timers %v, want none: one is on its way", timers)
	}
	clock += 100
	out = n.handle(tickMsg{})
	if got := sent(out); !slices.Equal(got, want[:4]) {
		t.Errorf("tick sent %v, want %v", got, want[:4])
	}
	var seqs []int64
	for _, env := range out {
		if r, ok := env.Msg.(remoteSync); ok {
			seqs = append(seqs, r.Seq)
			if len(r.Entries) != 2 {
				t.Errorf("remote sync carries %v, want the two waiting puts", r.Entries)
			}
		}
	}
	// Everything acknowledged: the next tick sends nothing and arms nothing.
	n.handle(remoteSync{Acks: []int64{1, 2, 3, 4}})
	clock += 500
	if out := n.handle(tickMsg{}); len(out) != 0 {
		t.Errorf("idle tick = %+v", out)
	}
}

// A batch a remote server does not acknowledge is sent again after ackTimeout, merged with
// what is new; an acknowledged one is not.
func TestNodeResendsUnacknowledgedBatches(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("a:1", 1, 0, &clock, desc("b:1", 1), desc("c:1", 1))
	var seqTo = map[string]int64{}
	for _, env := range n.handle(putMsg{Key: "x", Value: "1", Reply: reply()}) {
		if r, ok := env.Msg.(remoteSync); ok {
			seqTo[env.To.Address] = r.Seq
		}
	}
	n.handle(remoteSync{Acks: []int64{seqTo["b:1"]}}) // c's batch (or its ack) was lost
	clock += ackTimeout.Milliseconds() - 1
	n.handle(tickMsg{})
	clock++
	out := n.handle(putMsg{Key: "y", Value: "2", Reply: reply()})
	got := map[string]delta{}
	for _, env := range out {
		if r, ok := env.Msg.(remoteSync); ok {
			got[env.To.Address] = r.Entries
		}
	}
	if len(got["b:1"]) != 1 || len(got["c:1"]) != 2 {
		t.Errorf("after the timeout b got %v and c got %v; want y, and x again with y", got["b:1"], got["c:1"])
	}
}

// A receiver acknowledges each batch in its next sync to the sender, with its own Puts if the
// sender is also the actor it writes to.
func TestNodeAcknowledgesBatches(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("b:1", 1, 0, &clock, desc("a:1", 1))
	from := desc("a:1", 1).ref(0)
	out := n.handle(remoteSync{Entries: delta{"k": e("v", 5, "a:1/10")}, From: from, Seq: 7})
	if len(out) != 1 || out[0].To.Uid() != from.Uid() || !slices.Equal(out[0].Msg.(remoteSync).Acks, []int64{7}) {
		t.Fatalf("batch 7 answered with %+v", out)
	}
	clock += 50
	n.handle(remoteSync{From: from, Seq: 8})
	n.handle(putMsg{Key: "mine", Value: "v", Reply: reply()})
	clock += 100
	out = n.handle(tickMsg{})
	if len(out) != 2 { // the sync and a timer for its own acknowledgement
		t.Fatalf("tick sent %+v", out)
	}
	if m := out[0].Msg.(remoteSync); !slices.Equal(m.Acks, []int64{8}) || len(m.Entries) != 1 || m.Seq == 0 {
		t.Errorf("sync to a = %+v, want the put and the ack of 8 in one message", m)
	}
}

// ticks lists the delays of the timer envelopes.
func ticks(out []envelope) []time.Duration {
	var ds []time.Duration
	for _, e := range out {
		if _, ok := e.Msg.(tickMsg); ok {
			ds = append(ds, e.After)
		}
	}
	return ds
}

// What comes from another server is passed to local actors only; what comes from a local actor
// goes nowhere.
func TestNodeRoutesReceivedVersions(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("a:1", 2, 0, &clock, desc("b:1", 1))
	if got := sent(n.handle(remoteSync{Entries: delta{"r": e("from b", 5, "b:1/10")}})); !slices.Equal(got, []string{"a:1/11:kvstore.localSync"}) {
		t.Errorf("remote news sent %v, want only a local sync", got)
	}
	clock += 1000
	if got := sent(n.handle(localSync{Entries: delta{"l": e("from a2", 5, "a:1/11")}})); len(got) != 0 {
		t.Errorf("local news sent %v", got)
	}
	// A stale remote version is not news and is not passed on.
	if got := sent(n.handle(remoteSync{Entries: delta{"r": e("older", 4, "b:1/10")}})); len(got) != 0 {
		t.Errorf("stale version sent %v", got)
	}
	if v, _ := n.replica.Get("r"); v != "from b" {
		t.Errorf("r = %q", v)
	}
}

// A joining server gets the state in the welcome, and every actor of the running server sends
// it its recent Puts at the next tick, so none made during the join is lost.
func TestNodeWelcomesAJoiningServer(t *testing.T) {
	t.Parallel()
	clock := int64(10_000)
	gateway := testNode("a:1", 2, 0, &clock)
	other := testNode("a:1", 2, 1, &clock)
	other.handle(putMsg{Key: "early", Value: "1", Reply: reply()})
	clock += 6000 // older than the recent window
	other.handle(putMsg{Key: "during", Value: "2", Reply: reply()})

	clock += syncInterval.Milliseconds() // "during" has gone to the gateway; the next sync is due
	newcomer := desc("n:1", 1)
	out := gateway.handle(helloMsg{Server: newcomer, Reply: newcomer.ref(0)})
	if got := sent(out); !slices.Equal(got, []string{"a:1/11:kvstore.joinedMsg", "n:1/10:kvstore.welcomeMsg"}) {
		t.Fatalf("hello answered with %v", got)
	}
	for _, env := range out {
		if j, ok := env.Msg.(joinedMsg); ok {
			out = other.handle(j)
		}
	}
	var toNewcomer delta
	for _, env := range out {
		if r, ok := env.Msg.(remoteSync); ok && env.To.Address == "n:1" {
			toNewcomer = r.Entries
		}
	}
	if _, ok := toNewcomer["during"]; !ok || len(toNewcomer) != 1 {
		t.Errorf("newcomer got %v, want the recent put only", toNewcomer)
	}
}

// A newcomer told of one server learns the others from its welcome and introduces itself.
func TestNodeJoinFindsTheWholeCluster(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	a := desc("a:1", 1)
	n := testNode("n:1", 2, 0, &clock, a)
	out := n.handle(welcomeMsg{
		State:   delta{"k": e("v", 1, "a:1/10")},
		Members: []serverDesc{a, desc("b:1", 2), desc("n:1", 2)},
	})
	want := []string{"b:1/10:kvstore.helloMsg", "n:1/11:kvstore.joinedMsg", "n:1/11:kvstore.localSync"}
	if got := sent(out); !slices.Equal(got, want) {
		t.Errorf("welcome led to %v, want %v", got, want)
	}
	if v, _ := n.replica.Get("k"); v != "v" {
		t.Errorf("welcome state not applied")
	}
}

func TestNodeForgetsOldRecentPuts(t *testing.T) {
	t.Parallel()
	clock := int64(0)
	n := testNode("a:1", 1, 0, &clock)
	for i := range 10 {
		clock += 1000
		n.handle(putMsg{Key: fmt.Sprint(i), Value: "v", Reply: reply()})
	}
	if len(n.recent) > 6 {
		t.Errorf("%d recent puts kept, want only the last %v", len(n.recent), recentWindow)
	}
}

func TestParseDesc(t *testing.T) {
	t.Parallel()
	good := serverDesc{Addr: "127.0.0.1:6000", Counters: []int{1, 2, 3}}
	if d, err := parseDesc(good.String()); err != nil || d.String() != good.String() {
		t.Errorf("round trip = %v, %v", d, err)
	}
	for _, bad := range []string{"", "garbage", "127.0.0.1:6000", "127.0.0.1:6000/", "nohost/1",
		"127.0.0.1:6000/1,x", "127.0.0.1:6000/-1", "127.0.0.1:6000/1,,2"} {
		if _, err := parseDesc(bad); err == nil {
			t.Errorf("parseDesc(%q) accepted", bad)
		}
	}
}

func FuzzParseDesc(f *testing.F) {
	f.Add("127.0.0.1:6000/1,2,3")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDesc(s)
		if err != nil {
			return
		}
		if again, err := parseDesc(d.String()); err != nil || again.String() != d.String() {
			t.Errorf("%q parsed to %q which does not round-trip", s, d.String())
		}
	})
}

// Messages a broken or hostile peer could send: zero values, servers without actors, batches
// without a sender. None panics, and none makes the node address an actor that cannot exist.
func TestNodeSurvivesMalformedMessages(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("a:1", 2, 0, &clock, desc("b:1", 1))
	for _, m := range []any{
		helloMsg{}, helloMsg{Server: serverDesc{Addr: "x:1"}},
		welcomeMsg{}, welcomeMsg{Members: []serverDesc{{Addr: "x:1"}, {}}},
		joinedMsg{}, joinedMsg{Server: serverDesc{Addr: "y:1"}},
		remoteSync{Seq: 5}, remoteSync{Acks: []int64{-1, 99}}, localSync{}, tickMsg{},
		getMsg{}, listMsg{}, putMsg{Key: "k"}, configMsg{}, "not a message", nil,
	} {
		for _, env := range n.handle(m) {
			if env.To != nil && env.To.Address != "a:1" && env.To.Address != "b:1" {
				t.Errorf("%#v made the node send %T to %s", m, env.Msg, env.To.Uid())
			}
		}
	}
	if len(n.remotes) != 1 {
		t.Errorf("remotes = %v, want only b", n.remotes)
	}
	if n.self.Addr != "a:1" || n.index != 0 {
		t.Errorf("a stray configMsg moved the node to %v, index %d", n.self, n.index)
	}
}

// Once a batch to a server has timed out, the next ones to it go out again every
// failingResend rather than ackTimeout, until an acknowledgement comes back from it, even of
// a batch already resent.
func TestNodeResendsSoonerToAFailingServer(t *testing.T) {
	t.Parallel()
	clock := int64(1000)
	n := testNode("a:1", 1, 0, &clock, desc("b:1", 1))
	resent := func() (seq int64) {
		for _, env := range n.handle(tickMsg{}) {
			if r, ok := env.Msg.(remoteSync); ok && r.Seq > 0 {
				seq = r.Seq
			}
		}
		return seq
	}
	n.handle(putMsg{Key: "x", Value: "1", Reply: reply()}) // batch 1, lost
	clock += ackTimeout.Milliseconds()
	if resent() == 0 {
		t.Fatal("not resent after ackTimeout")
	}
	clock += failingResend.Milliseconds() - 1
	if s := resent(); s != 0 {
		t.Fatalf("batch %d resent before failingResend", s)
	}
	clock++
	if resent() == 0 {
		t.Fatal("not resent after failingResend to a failing server")
	}
	n.handle(remoteSync{Server: desc("b:1", 1), Acks: []int64{1}}) // the first batch, long resent
	clock += failingResend.Milliseconds()
	if s := resent(); s != 0 {
		t.Fatalf("batch %d resent after failingResend to a server that acknowledges again", s)
	}
}
