package raft

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"net/rpc"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// codecCases holds one value of every message type the TCP codec carries, with every field set.
func codecCases() []any {
	return []any{
		&RequestVoteArgs{Term: 9, CandidateID: 2, LastLogIndex: math.MaxInt - 1, LastLogTerm: 8},
		&RequestVoteReply{Term: 9, VoteGranted: true},
		&RequestVoteReply{},
		&AppendEntriesArgs{Term: 4, LeaderID: 1, PrevLogIndex: 17, PrevLogTerm: 3, LeaderCommit: 16, Entries: []Entry{
			{Term: 3, Command: 42}, {Term: 4, Command: "put k v"}, {Term: 4, Command: []byte{0, 1, 2}},
			{Term: 4, Command: testOp{"k", -7}}, {Term: 4, Command: nil}, {Term: 4, Command: ""},
		}},
		&AppendEntriesArgs{Term: 1, LeaderID: 0}, // a heartbeat
		&AppendEntriesReply{Term: 5, Success: false, ConflictTerm: 2, ConflictIndex: 11},
		&AppendEntriesReply{Term: 5, Success: true},
		&InstallSnapshotArgs{Term: 6, LeaderID: 2, LastIncludedIndex: 1000, LastIncludedTerm: 5, Data: bytes.Repeat([]byte("snap"), 300)},
		&InstallSnapshotArgs{Term: 6},
		&InstallSnapshotReply{Term: 6},
	}
}

// zeroOf returns a pointer to a fresh zero value of v's pointed-to type.
func zeroOf(v any) any { return reflect.New(reflect.TypeOf(v).Elem()).Interface() }

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	for _, want := range codecCases() {
		data, err := appendBody(nil, want)
		if err != nil {
			t.Fatalf("%T: %v", want, err)
		}
		got := zeroOf(want)
		if err := decodeBody(data, got); err != nil {
			t.Fatalf("%T: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%T round trip:\n got %+v\nwant %+v", want, got, want)
		}
		for cut := range len(data) {
			if err := decodeBody(data[:cut], zeroOf(want)); !errors.Is(err, ErrBadFrame) {
				t.Fatalf("%T cut at %d of %d bytes: err %v, want ErrBadFrame", want, cut, len(data), err)
			}
		}
		if err := decodeBody(append(data, 0), zeroOf(want)); !errors.Is(err, ErrBadFrame) {
			t.Fatalf("%T with a trailing byte: err %v", want, err)
		}
	}
}

func TestCodecRejectsWrongKindAndUnknownTypes(t *testing.T) {
	t.Parallel()
	data, _ := appendBody(nil, &RequestVoteReply{Term: 1})
	if err := decodeBody(data, &AppendEntriesReply{}); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("a RequestVoteReply decoded as an AppendEntriesReply: %v", err)
	}
	if _, err := appendBody(nil, &struct{ X int }{1}); err == nil {
		t.Fatal("encoded a type the transport does not carry")
	}
	if err := decodeBody(data, new(int)); err == nil {
		t.Fatal("decoded into a type the transport does not carry")
	}
	type unregistered struct{ X int }
	if _, err := appendBody(nil, &AppendEntriesArgs{Entries: []Entry{{Term: 1, Command: unregistered{1}}}}); err == nil {
		t.Fatal("encoded an entry gob cannot carry")
	}
}

// pipeConn is one end of an in-memory connection for codec tests.
type pipeConn struct {
	io.Reader
	io.Writer
}

func (pipeConn) Close() error { return nil }

// TestCodecFramesBothWays runs requests and responses through the client and server codecs
// back to back on one stream, as net/rpc uses them.
func TestCodecFramesBothWays(t *testing.T) {
	t.Parallel()
	var wire bytes.Buffer
	client := newClientCodec(pipeConn{&wire, &wire}).(clientCodec)
	server := newServerCodec(pipeConn{&wire, &wire}).(serverCodec)
	for seq, msg := range codecCases() {
		if err := client.WriteRequest(&rpc.Request{ServiceMethod: methodAppendEntries, Seq: uint64(seq)}, msg); err != nil {
			t.Fatal(err)
		}
		var req rpc.Request
		if err := server.ReadRequestHeader(&req); err != nil {
			t.Fatal(err)
		}
		got := zeroOf(msg)
		if err := server.ReadRequestBody(got); err != nil {
			t.Fatal(err)
		}
		if req.Seq != uint64(seq) || req.ServiceMethod != methodAppendEntries || !reflect.DeepEqual(got, msg) {
			t.Fatalf("request %d: %+v %+v", seq, req, got)
		}
		if err := server.WriteResponse(&rpc.Response{ServiceMethod: req.ServiceMethod, Seq: req.Seq}, msg); err != nil {
			t.Fatal(err)
		}
		var resp rpc.Response
		if err := client.ReadResponseHeader(&resp); err != nil {
			t.Fatal(err)
		}
		got = zeroOf(msg)
		if err := client.ReadResponseBody(got); err != nil {
			t.Fatal(err)
		}
		if resp.Seq != uint64(seq) || resp.Error != "" || !reflect.DeepEqual(got, msg) {
			t.Fatalf("response %d: %+v %+v", seq, resp, got)
		}
	}
	// An error response carries no body, and an unencodable reply becomes an error response.
	if err := server.WriteResponse(&rpc.Response{Seq: 7, Error: "boom"}, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if err := server.WriteResponse(&rpc.Response{Seq: 8}, &struct{ X int }{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []uint64{7, 8} {
		var resp rpc.Response
		if err := client.ReadResponseHeader(&resp); err != nil || resp.Seq != want || resp.Error == "" {
			t.Fatalf("error response %d: %+v %v", want, resp, err)
		}
		if err := client.ReadResponseBody(nil); err != nil {
			t.Fatal(err)
		}
	}
	if wire.Len() != 0 {
		t.Fatalf("%d bytes left on the wire", wire.Len())
	}
}

// TestTCPServerSurvivesGarbage sends a bad frame and a lying length to a TCPServer: each
// connection is dropped without the server allocating the claimed size, and a proper peer is
// still served.
func TestTCPServerSurvivesGarbage(t *testing.T) {
	c := newCluster(t, 3, "tcp", 0, func(int) Persister { return NewMemoryPersister() })
	addr := c.nodes[0].srv.Addr().String()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, junk := range [][]byte{
		{0x05, 0xff, 0xff, 0xff, 0xff, 0xff},                  // a header whose seq never ends
		{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3},               // claims ~4 GiB, over the limit
		{0x80, 0x80, 0x80, 0x80, 0x03, 1, 2, 3},               // claims 768 MiB, then hangs up
		append([]byte{0x07, 0x00, 0x03, 'a', 'b', 'c'}, 1, 2), // no such method
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(junk)
		conn.(*net.TCPConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(conn); err != nil {
			t.Fatalf("junk %x: the server neither answered nor hung up: %v", junk, err)
		}
		conn.Close()
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("the junk made the process allocate %d MiB", grew>>20)
	}
	p := NewTCPPeer(addr, time.Second)
	defer p.Close()
	var reply RequestVoteReply
	if !p.Call(methodRequestVote, &RequestVoteArgs{Term: 0, CandidateID: 1}, &reply) { // stale: no harm
		t.Fatal("a proper call failed after the garbage")
	}
}

func FuzzDecodeBody(f *testing.F) {
	for _, m := range codecCases() {
		data, _ := appendBody(nil, m)
		f.Add(data)
	}
	f.Add([]byte{kindAppendEntriesArgs, 0, 0, 0, 0, 0, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, proto := range codecCases() {
			got := zeroOf(proto)
			if decodeBody(data, got) != nil {
				continue
			}
			// Whatever decodes must encode again to something that decodes the same.
			again, err := appendBody(nil, got)
			if err != nil {
				t.Fatal(err)
			}
			got2 := zeroOf(proto)
			if err := decodeBody(again, got2); err != nil || !reflect.DeepEqual(got, got2) {
				t.Fatalf("re-decode %T: %v\n%+v\n%+v", got, err, got, got2)
			}
		}
	})
}

func FuzzServerCodec(f *testing.F) {
	var wire bytes.Buffer
	client := newClientCodec(pipeConn{&wire, &wire})
	for seq, m := range codecCases() {
		client.WriteRequest(&rpc.Request{ServiceMethod: methodAppendEntries, Seq: uint64(seq)}, m)
	}
	f.Add(wire.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		server := newServerCodec(pipeConn{bytes.NewReader(data), io.Discard})
		for range 100 {
			var req rpc.Request
			if server.ReadRequestHeader(&req) != nil {
				return
			}
			server.ReadRequestBody(&AppendEntriesArgs{})
		}
	})
}

func TestInvalidRPCArguments(t *testing.T) {
	t.Parallel()
	const peers, me = 3, 0
	ok := []interface{ validate(int, int) error }{
		&RequestVoteArgs{Term: 3, CandidateID: 1, LastLogIndex: 9, LastLogTerm: 3},
		&AppendEntriesArgs{Term: 3, LeaderID: 2, PrevLogIndex: 4, PrevLogTerm: 1, LeaderCommit: 4,
			Entries: []Entry{{Term: 1}, {Term: 2}, {Term: 3}}},
		&InstallSnapshotArgs{Term: 3, LeaderID: 1, LastIncludedIndex: 10, LastIncludedTerm: 3},
	}
	for _, a := range ok {
		if err := a.validate(peers, me); err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	bad := []interface{ validate(int, int) error }{
		&RequestVoteArgs{Term: 3, CandidateID: 0},                                             // from me
		&RequestVoteArgs{Term: 3, CandidateID: 3},                                             // outside the cluster
		&RequestVoteArgs{Term: -1, CandidateID: 1},                                            // negative term
		&RequestVoteArgs{Term: 3, CandidateID: 1, LastLogIndex: -1},                           // negative index
		&RequestVoteArgs{Term: 3, CandidateID: 1, LastLogTerm: 4},                             // a log from the future
		&AppendEntriesArgs{Term: 3, LeaderID: -1},                                             // no such leader
		&AppendEntriesArgs{Term: 3, LeaderID: 1, PrevLogIndex: -5},                            // negative index
		&AppendEntriesArgs{Term: 3, LeaderID: 1, LeaderCommit: -1},                            // negative commit
		&AppendEntriesArgs{Term: 3, LeaderID: 1, PrevLogTerm: 2, Entries: []Entry{{Term: 1}}}, // term goes back
		&AppendEntriesArgs{Term: 3, LeaderID: 1, Entries: []Entry{{Term: 4}}},                 // term from the future
		&InstallSnapshotArgs{Term: 3, LeaderID: 1, LastIncludedIndex: -1},
		&InstallSnapshotArgs{Term: 3, LeaderID: 1, LastIncludedTerm: 5},
	}
	for _, a := range bad {
		if err := a.validate(peers, me); !errors.Is(err, ErrInvalidRPC) {
			t.Fatalf("%+v accepted: %v", a, err)
		}
	}

	// Over TCP a bogus message gets an error reply and changes nothing.
	c := newCluster(t, 3, "tcp", 0, func(int) Persister { return NewMemoryPersister() })
	l := c.leader(10 * time.Second)
	before := c.nodes[l].rf.Status()
	p := NewTCPPeer(c.nodes[l].srv.Addr().String(), time.Second)
	defer p.Close()
	var reply AppendEntriesReply
	if p.Call(methodAppendEntries, &AppendEntriesArgs{Term: before.Term + 5, LeaderID: 7, PrevLogIndex: -3}, &reply) {
		t.Fatalf("a bogus AppendEntries was answered: %+v", reply)
	}
	if st := c.nodes[l].rf.Status(); st.Term != before.Term || st.Role != Leader {
		t.Fatalf("a bogus AppendEntries changed the leader: %+v -> %+v", before, st)
	}
}
