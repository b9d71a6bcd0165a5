package main

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"ds440/raft"
)

// command is one replicated operation: a write, or with Read a consistent read, which changes
// nothing but is answered only once it is applied, so it sees every write committed before it.
// ID lets the proposer recognise its own entry at the index Start returned: a different leader
// may have put something else there.
type command struct {
	ID    uint64
	Key   string
	Value string
	Read  bool
}

func init() { gob.Register(command{}) }

// kvState is the replicated state machine and what a snapshot holds.
type kvState struct {
	Applied int
	KV      map[string]string
}

// node is one raftnode: Raft over TCP, the key/value state machine and the HTTP front end.
type node struct {
	o      options
	log    *slog.Logger
	rf     *raft.Raft
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
	waiters  map[int]chan uint64 // index -> the ID of the command applied there
	nextID   uint64
}

func startNode(o options, logger *slog.Logger) (*node, error) {
	persister, err := raft.NewFilePersister(o.dataDir)
	if err != nil {
		return nil, err
	}
	n := &node{
		o: o, log: logger,
		failed:  make(chan error, 1),
		applyCh: make(chan raft.ApplyMsg, 256),
		done:    make(chan struct{}),
		state:   kvState{KV: map[string]string{}},
		waiters: map[int]chan uint64{},
		nextID:  uint64(time.Now().UnixNano()),
	}
	if snap := persister.ReadSnapshot(); len(snap) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(snap)).Decode(&n.state); err != nil {
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
		Peers: peers, Me: o.id, Persister: persister, ApplyCh: n.applyCh,
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

// Close stops the HTTP front end, Raft and the transport. It is idempotent.
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
			var st kvState
			if err := gob.NewDecoder(bytes.NewReader(m.Snapshot)).Decode(&st); err != nil {
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
			var id uint64
			if c, ok := m.Command.(command); ok {
				if !c.Read {
					n.state.KV[c.Key] = c.Value
				}
				id = c.ID
			}
			if w, ok := n.waiters[m.CommandIndex]; ok {
				w <- id
				delete(n.waiters, m.CommandIndex)
			}
			if n.o.snapshotEvery > 0 && n.state.Applied-n.lastSnap >= n.o.snapshotEvery {
				var buf bytes.Buffer
				if err := gob.NewEncoder(&buf).Encode(n.state); err == nil {
					n.lastSnap = n.state.Applied
					n.rf.Snapshot(n.state.Applied, buf.Bytes())
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

// release fails the waiters a snapshot jumped over: their entries' fate is unknown here.
func (n *node) release(upTo int) {
	for i, w := range n.waiters {
		if i <= upTo {
			w <- 0
			delete(n.waiters, i)
		}
	}
}

func (n *node) handlePut(w http.ResponseWriter, r *http.Request) {
	value, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if index, term, ok := n.replicate(w, r, command{Key: r.PathValue("key"), Value: string(value)}); ok {
		writeJSON(w, http.StatusOK, map[string]any{"index": index, "term": term})
	}
}

// replicate proposes c (with a fresh ID) and waits until it is applied. If it is not, it has
// answered the request already and returns false.
func (n *node) replicate(w http.ResponseWriter, r *http.Request, c command) (index, term int, ok bool) {
	n.mu.Lock()
	n.nextID++
	c.ID = n.nextID
	index, term, isLeader := n.rf.Start(c)
	if !isLeader {
		n.mu.Unlock()
		writeJSON(w, http.StatusMisdirectedRequest, map[string]any{"error": "not the leader", "leader": n.rf.Status().Leader})
		return 0, 0, false
	}
	ch := make(chan uint64, 1)
	n.waiters[index] = ch
	n.mu.Unlock()

	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case id := <-ch:
		if id != c.ID {
			writeJSON(w, http.StatusConflict, map[string]any{"error": "lost leadership; entry replaced"})
			return 0, 0, false
		}
		return index, term, true
	case <-timer.C:
		writeJSON(w, http.StatusGatewayTimeout, map[string]any{"error": "not committed in time", "index": index})
	case <-r.Context().Done():
	}
	n.mu.Lock()
	delete(n.waiters, index)
	n.mu.Unlock()
	return 0, 0, false
}

// handleGet answers from this server's applied state, or with ?consistent=1 only on the leader
// after a read entry has gone through the log, so the answer reflects every write committed
// before the request.
func (n *node) handleGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if c := r.URL.Query().Get("consistent"); c == "1" || c == "true" {
		if _, _, ok := n.replicate(w, r, command{Key: key, Read: true}); !ok {
			return
		}
	}
	n.mu.Lock()
	v, ok := n.state.KV[key]
	applied := n.state.Applied
	n.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such key", "applied": applied})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": v, "applied": applied})
}

// status is the JSON of GET /status.
type status struct {
	ID            int    `json:"id"`
	Term          int    `json:"term"`
	Role          string `json:"role"`
	Leader        int    `json:"leader"`
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
		ID: st.Me, Term: st.Term, Role: st.Role.String(), Leader: st.Leader,
		CommitIndex: st.CommitIndex, LastApplied: applied,
		SnapshotIndex: st.SnapshotIndex, LastIndex: st.LastIndex, Keys: keys,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
