package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"ds440/raft"
)

// node is one raftnode: Raft over TCP, the key/value state machine and the HTTP front end.
type node struct {
	o      options
	log    *slog.Logger
	rf     *raft.Raft
	store  *raft.FilePersister
	rpc    *raft.TCPServer
	peers  []*raft.TCPPeer
	http   *http.Server
	failed chan error

	applyCh chan raft.ApplyMsg
	done    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	state    kvState
	lastSnap int
	waiters  map[int]chan result // index -> what the command applied there did
	nextID   uint64
}

func startNode(o options, logger *slog.Logger) (*node, error) {
	store, err := raft.NewFilePersister(o.dataDir)
	if err != nil {
		return nil, err
	}
	if rec := store.Recovery(); rec.Cut > 0 {
		logger.Warn("raftnode: cut a torn write off the end of the raft log", "bytes", rec.Cut,
			"reason", rec.Reason, "kept", rec.Kept)
	}
	n, err := newNode(o, logger, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	return n, nil
}

func newNode(o options, logger *slog.Logger, store *raft.FilePersister) (*node, error) {
	var err error
	n := &node{
		o: o, log: logger, store: store,
		failed:  make(chan error, 1),
		applyCh: make(chan raft.ApplyMsg, 256),
		done:    make(chan struct{}),
		state:   newKVState(),
		waiters: map[int]chan result{},
		// Proposal IDs carry the server's id in the top byte, so two servers never propose
		// the same ID, and the clock below it, so a restarted server does not reuse its own.
		nextID: uint64(o.id+1)<<56 | uint64(time.Now().UnixNano())&(1<<56-1),
	}
	if snap := store.ReadSnapshot(); len(snap) > 0 {
		if n.state, err = decodeKVState(snap); err != nil {
			return nil, fmt.Errorf("snapshot in %s: %w", o.dataDir, err)
		}
		n.lastSnap = n.state.Applied
	}
	ln, err := net.Listen("tcp", o.peers[o.id])
	if err != nil {
		return nil, fmt.Errorf("raft listener: %w", err)
	}
	hl, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("http listener: %w", err)
	}
	peers := make([]raft.Peer, len(o.peers))
	for i, addr := range o.peers {
		p := raft.NewTCPPeer(addr, 0)
		n.peers = append(n.peers, p)
		peers[i] = p
	}
	n.rf, err = raft.New(raft.Config{
		Peers: peers, Me: o.id, Storage: store, ApplyCh: n.applyCh,
		ElectionTimeout: o.election, HeartbeatInterval: o.heartbeat, Logger: logger,
	})
	if err != nil {
		ln.Close()
		hl.Close()
		return nil, err
	}
	if n.rpc, err = raft.ServeTCP(ln, n.rf); err != nil {
		n.rf.Kill()
		ln.Close()
		hl.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key}", n.handlePut)
	mux.HandleFunc("GET /kv/{key}", n.handleGet)
	mux.HandleFunc("GET /status", n.handleStatus)
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	n.wg.Add(2)
	go n.applier()
	go func() {
		defer n.wg.Done()
		if err := n.http.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.fail(err)
		}
	}()
	st := n.rf.Status()
	logger.Info("raftnode: started", "raft", ln.Addr().String(), "http", hl.Addr().String(),
		"term", st.Term, "snapshot", st.SnapshotIndex, "log", st.LastIndex)
	return n, nil
}

// Close stops the HTTP front end, Raft and the transport, and closes the data directory. It is
// idempotent.
func (n *node) Close() {
	select {
	case <-n.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = n.http.Shutdown(ctx)
	close(n.done)
	n.rf.Kill()
	n.rpc.Close()
	for _, p := range n.peers {
		p.Close()
	}
	n.wg.Wait()
	if err := n.store.Close(); err != nil {
		n.log.Error("raftnode: closing the data directory", "err", err)
	}
}

// applier runs committed commands against the map, wakes writers waiting for their index and
// takes a snapshot every snapshotEvery commands.
func (n *node) applier() {
	defer n.wg.Done()
	for {
		var m raft.ApplyMsg
		select {
		case <-n.done:
			return
		case m = <-n.applyCh:
		}
		n.mu.Lock()
		switch {
		case m.SnapshotValid:
			st, err := decodeKVState(m.Snapshot)
			if err != nil {
				n.mu.Unlock()
				n.fail(fmt.Errorf("snapshot from leader: %w", err))
				return
			}
			n.state, n.lastSnap = st, st.Applied
			n.release(st.Applied)
		case m.CommandValid:
			if m.CommandIndex <= n.state.Applied {
				break
			}
			n.state.Applied = m.CommandIndex
			res := result{ID: noEntry}
			if c, ok := m.Command.(command); ok {
				res = n.state.apply(c)
			}
			if w, ok := n.waiters[m.CommandIndex]; ok {
				w <- res
				delete(n.waiters, m.CommandIndex)
			}
			if n.o.snapshotEvery > 0 && n.state.Applied-n.lastSnap >= n.o.snapshotEvery {
				if b, err := n.state.encode(); err == nil {
					n.lastSnap = n.state.Applied
					n.rf.Snapshot(n.state.Applied, b)
				}
			}
		}
		n.mu.Unlock()
	}
}

// fail reports a fatal error to main; only the first one matters.
func (n *node) fail(err error) {
	select {
	case n.failed <- err:
	default:
	}
}

// noEntry and fateUnknown are IDs no proposal carries (their top byte is zero): the first
// marks an index where something other than a command was applied, the second a waiter whose
// index a snapshot jumped over, so its entry's fate is unknown here.
const (
	noEntry     = 0
	fateUnknown = 1
)

// release answers the waiters a snapshot jumped over.
func (n *node) release(upTo int) {
	for i, w := range n.waiters {
		if i <= upTo {
			w <- result{ID: fateUnknown}
			delete(n.waiters, i)
		}
	}
}

// handlePut writes the body as the key's value, or with ?expect=V (or ?expect-absent=1) sets
// it only if the key holds V (or does not exist). With ?client=C&seq=S a retried request is
// applied once.
func (n *node) handlePut(w http.ResponseWriter, r *http.Request) {
	c := command{Key: r.PathValue("key")}
	if err := parseClient(r, &c); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	q := r.URL.Query()
	if v, ok := q["expect"]; ok {
		c.CAS, c.Expect = true, v[0]
	}
	if v := q.Get("expect-absent"); v == "1" || v == "true" {
		if c.CAS {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "expect and expect-absent together"})
			return
		}
		c.CAS, c.ExpectAbsent = true, true
	}
	if r.ContentLength > n.o.maxValue {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "value too large", "limit": n.o.maxValue})
		return
	}
	value, err := io.ReadAll(http.MaxBytesReader(w, r.Body, n.o.maxValue))
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "value too large", "limit": n.o.maxValue})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	c.Value = string(value)
	res, index, term, ok := n.replicate(w, r, c)
	if !ok {
		return
	}
	code := http.StatusOK
	if !res.Swapped {
		code = http.StatusPreconditionFailed
	}
	writeJSON(w, code, map[string]any{"index": index, "term": term, "swapped": res.Swapped, "duplicate": res.Duplicate})
}

// parseClient reads ?client=C&seq=S into c. Both or neither must be given, and Seq starts at 1.
func parseClient(r *http.Request, c *command) error {
	q := r.URL.Query()
	cs, ss := q.Get("client"), q.Get("seq")
	if cs == "" && ss == "" {
		return nil
	}
	var err error
	if c.Client, err = strconv.ParseUint(cs, 10, 64); err != nil || c.Client == 0 {
		return fmt.Errorf("client must be a positive integer, got %q", cs)
	}
	if c.Seq, err = strconv.ParseUint(ss, 10, 64); err != nil || c.Seq == 0 {
		return fmt.Errorf("seq must be a positive integer, got %q", ss)
	}
	return nil
}

// replicate proposes c (with a fresh ID) and waits until it is applied. If it is not, it has
// answered the request already and returns false.
func (n *node) replicate(w http.ResponseWriter, r *http.Request, c command) (res result, index, term int, ok bool) {
	n.mu.Lock()
	n.nextID++
	c.ID = n.nextID
	index, term, isLeader := n.rf.Start(c)
	if !isLeader {
		n.mu.Unlock()
		n.notLeader(w)
		return result{}, 0, 0, false
	}
	ch := make(chan result, 1)
	n.waiters[index] = ch
	n.mu.Unlock()

	timer := time.NewTimer(n.o.commitTimeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		switch res.ID {
		case c.ID:
			return res, index, term, true
		case fateUnknown:
			writeJSON(w, http.StatusGatewayTimeout, map[string]any{"error": "outcome unknown: a snapshot replaced the log here", "index": index})
		default:
			// Another entry is committed at our index, and an entry never changes index: ours
			// is not in the log and never will be.
			writeJSON(w, http.StatusConflict, map[string]any{"error": "lost leadership; entry replaced"})
		}
		return result{}, 0, 0, false
	case <-timer.C:
		writeJSON(w, http.StatusGatewayTimeout, map[string]any{"error": "outcome unknown: not committed in time", "index": index})
	case <-r.Context().Done():
	}
	n.mu.Lock()
	delete(n.waiters, index)
	n.mu.Unlock()
	return result{}, 0, 0, false
}

// notLeader refers the client to the leader's HTTP address, when this server knows it.
func (n *node) notLeader(w http.ResponseWriter) {
	leader := n.rf.Status().Leader
	writeJSON(w, http.StatusMisdirectedRequest, map[string]any{"error": "not the leader", "leader": n.clientAddr(leader), "leaderId": leader})
}

// clientAddr is the HTTP address of server id, or "" if unknown.
func (n *node) clientAddr(id int) string {
	if id < 0 || id >= len(n.o.clients) {
		return ""
	}
	return n.o.clients[id]
}

// handleGet answers with the value's bytes (application/octet-stream) from this server's
// applied state, or with ?consistent=1 only on the leader after a read entry has gone through
// the log, so the answer reflects every write committed before the request.
func (n *node) handleGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var value string
	var found bool
	var applied int
	if c := r.URL.Query().Get("consistent"); c == "1" || c == "true" {
		res, index, _, ok := n.replicate(w, r, command{Key: key, Read: true})
		if !ok {
			return
		}
		value, found, applied = res.Value, res.Found, index
	} else {
		n.mu.Lock()
		value, found = n.state.KV[key]
		applied = n.state.Applied
		n.mu.Unlock()
	}
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such key", "applied": applied})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(value)))
	w.Header().Set("X-Raft-Applied", strconv.Itoa(applied))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, value)
}

// status is the JSON of GET /status.
type status struct {
	ID            int    `json:"id"`
	Term          int    `json:"term"`
	Role          string `json:"role"`
	Leader        int    `json:"leader"`
	LeaderAddr    string `json:"leaderAddr"` // the leader's HTTP address, if -clients names it
	CommitIndex   int    `json:"commitIndex"`
	LastApplied   int    `json:"lastApplied"`
	SnapshotIndex int    `json:"snapshotIndex"`
	LastIndex     int    `json:"lastIndex"`
	Keys          int    `json:"keys"`
}

func (n *node) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := n.rf.Status()
	n.mu.Lock()
	keys, applied := len(n.state.KV), n.state.Applied
	n.mu.Unlock()
	writeJSON(w, http.StatusOK, status{
		ID: st.Me, Term: st.Term, Role: st.Role.String(), Leader: st.Leader, LeaderAddr: n.clientAddr(st.Leader),
		CommitIndex: st.CommitIndex, LastApplied: applied,
		SnapshotIndex: st.SnapshotIndex, LastIndex: st.LastIndex, Keys: keys,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
