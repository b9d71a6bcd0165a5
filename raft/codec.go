package raft

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/rpc"
)

// The TCP transport speaks net/rpc with its own codec instead of gob: Raft's six message types
// in a compact binary form. gob's reflection, type bookkeeping and allocation took about a
// fifth of the CPU of a commit (more counting GC); this codec is a few appends and slice reads.
//
// Every message is one frame, a uvarint length and then:
//
//	request:  seq | len | method | body
//	response: seq | len | error  | body (empty when error is set)
//
// and a body is a kind byte and the fields in declaration order: ints as varints, bools as a
// byte, byte slices and entry commands length-prefixed (commands as in the persisted state:
// int, string and []byte directly, anything else through gob).

// ErrBadFrame reports a TCP frame or message body the codec cannot decode. A bad frame closes
// the connection; a bad body fails only its call.
var ErrBadFrame = errors.New("raft: bad rpc frame")

// maxFrame bounds one frame, which must hold a whole snapshot.
const maxFrame = 1 << 30

// keepBuffer is the largest encode/decode buffer a connection keeps between messages.
const keepBuffer = 1 << 16

const (
	kindRequestVoteArgs byte = 1 + iota
	kindRequestVoteReply
	kindAppendEntriesArgs
	kindAppendEntriesReply
	kindInstallSnapshotArgs
	kindInstallSnapshotReply
)

// appendBody encodes one of Raft's message types.
func appendBody(b []byte, body any) ([]byte, error) {
	switch m := body.(type) {
	case *RequestVoteArgs:
		b = append(b, kindRequestVoteArgs)
		b = appendInts(b, m.Term, m.CandidateID, m.LastLogIndex, m.LastLogTerm)
	case *RequestVoteReply:
		b = append(b, kindRequestVoteReply)
		b = appendInts(b, m.Term)
		b = appendBool(b, m.VoteGranted)
	case *AppendEntriesArgs:
		b = append(b, kindAppendEntriesArgs)
		b = appendInts(b, m.Term, m.LeaderID, m.PrevLogIndex, m.PrevLogTerm, m.LeaderCommit, len(m.Entries))
		for _, e := range m.Entries {
			cmd, err := encodeCommand(e.Command)
			if err != nil {
				return nil, err
			}
			b = appendInts(b, e.Term, len(cmd))
			b = append(b, cmd...)
		}
	case *AppendEntriesReply:
		b = append(b, kindAppendEntriesReply)
		b = appendInts(b, m.Term)
		b = appendBool(b, m.Success)
		b = appendInts(b, m.ConflictTerm, m.ConflictIndex)
	case *InstallSnapshotArgs:
		b = append(b, kindInstallSnapshotArgs)
		b = appendInts(b, m.Term, m.LeaderID, m.LastIncludedIndex, m.LastIncludedTerm, len(m.Data))
		b = append(b, m.Data...)
	case *InstallSnapshotReply:
		b = append(b, kindInstallSnapshotReply)
		b = appendInts(b, m.Term)
	default:
		return nil, fmt.Errorf("raft: the TCP transport cannot carry a %T", body)
	}
	return b, nil
}

// decodeBody decodes data into body, which must be a pointer to the message type data holds.
// It never panics and rejects trailing bytes.
func decodeBody(data []byte, body any) error {
	r := wireReader{b: data}
	kind := r.byte()
	switch m := body.(type) {
	case *RequestVoteArgs:
		r.expect(kind, kindRequestVoteArgs)
		*m = RequestVoteArgs{Term: r.int(), CandidateID: r.int(), LastLogIndex: r.int(), LastLogTerm: r.int()}
	case *RequestVoteReply:
		r.expect(kind, kindRequestVoteReply)
		*m = RequestVoteReply{Term: r.int(), VoteGranted: r.bool()}
	case *AppendEntriesArgs:
		r.expect(kind, kindAppendEntriesArgs)
		*m = AppendEntriesArgs{Term: r.int(), LeaderID: r.int(), PrevLogIndex: r.int(), PrevLogTerm: r.int(), LeaderCommit: r.int()}
		n := r.int()
		if n < 0 || n > len(r.b) { // every entry takes at least one byte
			r.fail("entry count")
			break
		}
		if n > 0 {
			m.Entries = make([]Entry, n)
		}
		for i := range m.Entries {
			m.Entries[i].Term = r.int()
			raw := r.bytes(r.int())
			if r.err != nil {
				break
			}
			cmd, err := decodeCommand(raw)
			if err != nil {
				r.fail(err.Error())
				break
			}
			m.Entries[i].Command = cmd
		}
	case *AppendEntriesReply:
		r.expect(kind, kindAppendEntriesReply)
		*m = AppendEntriesReply{Term: r.int(), Success: r.bool(), ConflictTerm: r.int(), ConflictIndex: r.int()}
	case *InstallSnapshotArgs:
		r.expect(kind, kindInstallSnapshotArgs)
		*m = InstallSnapshotArgs{Term: r.int(), LeaderID: r.int(), LastIncludedIndex: r.int(), LastIncludedTerm: r.int()}
		if data := r.bytes(r.int()); len(data) > 0 {
			m.Data = append([]byte(nil), data...)
		}
	case *InstallSnapshotReply:
		r.expect(kind, kindInstallSnapshotReply)
		*m = InstallSnapshotReply{Term: r.int()}
	default:
		return fmt.Errorf("raft: the TCP transport cannot decode into a %T", body)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

func appendInts(b []byte, vs ...int) []byte {
	for _, v := range vs {
		b = binary.AppendVarint(b, int64(v))
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// wireReader reads fields off a frame or a saved state; the first failure sticks, wrapping bad
// (ErrBadFrame if nil), and later reads return zeros.
type wireReader struct {
	b   []byte
	err error
	bad error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		bad := r.bad
		if bad == nil {
			bad = ErrBadFrame
		}
		r.err = fmt.Errorf("%w: %s", bad, what)
	}
	r.b = nil
}

func (r *wireReader) byte() byte {
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *wireReader) expect(got, want byte) {
	if r.err == nil && got != want {
		r.fail(fmt.Sprintf("body kind %d where %d was expected", got, want))
	}
}

func (r *wireReader) int() int {
	v, n := binary.Varint(r.b)
	if n <= 0 || v != int64(int(v)) {
		r.fail("bad integer")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *wireReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad integer")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a uvarint that is a size, an index or a term: at most 1<<62.
func (r *wireReader) count() int {
	v := r.uint()
	if v > 1<<62 {
		r.fail("integer out of range")
		return 0
	}
	return int(v)
}

func (r *wireReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("bad bool")
	return false
}

// bytes returns the next n bytes, aliasing the frame.
func (r *wireReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail("truncated")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *wireReader) string() string { return string(r.bytes(r.count())) }

// frameConn reads and writes length-prefixed frames on one connection, each a header (a
// sequence number and a string: the method or the error) and a body. Reads come from one
// goroutine and writes are serialized by net/rpc, so neither side needs a lock of its own.
type frameConn struct {
	rwc  io.ReadWriteCloser
	r    *bufio.Reader
	w    *bufio.Writer
	in   []byte                      // the last frame read
	body []byte                      // the body of the last frame read, until readBody takes it
	out  []byte                      // encode buffer
	hdr  [binary.MaxVarintLen64]byte // a frame's length prefix
}

func newFrameConn(rwc io.ReadWriteCloser) *frameConn {
	return &frameConn{rwc: rwc, r: bufio.NewReader(rwc), w: bufio.NewWriter(rwc)}
}

// readHeader reads the next frame and returns its header, keeping its body for readBody.
func (c *frameConn) readHeader() (seq uint64, s string, err error) {
	frame, err := c.readFrame()
	if err != nil {
		return 0, "", err
	}
	r := wireReader{b: frame}
	seq, s = r.uint(), r.string()
	c.body = r.b
	return seq, s, r.err
}

// readBody decodes the body of the frame whose header was read last into body (nil: discard).
func (c *frameConn) readBody(body any) error {
	data := c.body
	c.body = nil
	if body == nil {
		return nil
	}
	return decodeBody(data, body)
}

// encode puts a frame's contents in c.out for writeFrame; a nil body is left out.
func (c *frameConn) encode(seq uint64, s string, body any) error {
	b := binary.AppendUvarint(c.out[:0], seq)
	b = appendString(b, s)
	if body != nil {
		var err error
		if b, err = appendBody(b, body); err != nil {
			return err
		}
	}
	c.out = b
	return nil
}

// readFrame reads the next frame into c.in. A frame longer than a few KiB grows its buffer as
// its bytes arrive, so a lying length prefix cannot make the reader allocate it up front.
func (c *frameConn) readFrame() ([]byte, error) {
	n, err := binary.ReadUvarint(c.r)
	if err != nil {
		return nil, err // io.EOF between frames: the peer hung up
	}
	if n > maxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes", ErrBadFrame, n)
	}
	if cap(c.in) > keepBuffer {
		c.in = nil
	}
	buf := c.in[:0]
	for uint64(len(buf)) < n {
		chunk := int(min(n-uint64(len(buf)), 1<<20))
		if cap(buf)-len(buf) < chunk {
			buf = append(buf, make([]byte, chunk)...)[:len(buf)]
		}
		m, err := io.ReadFull(c.r, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	c.in = buf
	return buf, nil
}

// writeFrame sends c.out as one frame.
func (c *frameConn) writeFrame() error {
	n := binary.PutUvarint(c.hdr[:], uint64(len(c.out)))
	_, err := c.w.Write(c.hdr[:n])
	if err == nil {
		_, err = c.w.Write(c.out)
	}
	if err == nil {
		err = c.w.Flush()
	}
	if cap(c.out) > keepBuffer {
		c.out = nil
	}
	return err
}

func (c *frameConn) Close() error { return c.rwc.Close() }

// clientCodec is the rpc.ClientCodec of TCPPeer.
type clientCodec struct{ *frameConn }

func newClientCodec(rwc io.ReadWriteCloser) rpc.ClientCodec {
	return clientCodec{newFrameConn(rwc)}
}

// WriteRequest fails without writing anything if body cannot be encoded, so the connection
// stays usable.
func (c clientCodec) WriteRequest(req *rpc.Request, body any) error {
	if err := c.encode(req.Seq, req.ServiceMethod, body); err != nil {
		return err
	}
	return c.writeFrame()
}

func (c clientCodec) ReadResponseHeader(resp *rpc.Response) (err error) {
	resp.Seq, resp.Error, err = c.readHeader()
	return err
}

func (c clientCodec) ReadResponseBody(body any) error { return c.readBody(body) }

// serverCodec is the rpc.ServerCodec of TCPServer.
type serverCodec struct{ *frameConn }

func newServerCodec(rwc io.ReadWriteCloser) rpc.ServerCodec {
	return serverCodec{newFrameConn(rwc)}
}

func (c serverCodec) ReadRequestHeader(req *rpc.Request) (err error) {
	req.Seq, req.ServiceMethod, err = c.readHeader()
	return err
}

func (c serverCodec) ReadRequestBody(body any) error { return c.readBody(body) }

// WriteResponse sends an error response without a body; a reply it cannot encode becomes one.
func (c serverCodec) WriteResponse(resp *rpc.Response, body any) error {
	if resp.Error == "" {
		err := c.encode(resp.Seq, "", body)
		if err == nil {
			return c.writeFrame()
		}
		resp.Error = err.Error()
	}
	c.encode(resp.Seq, resp.Error, nil) // cannot fail without a body
	return c.writeFrame()
}
