//go:build linux && (amd64 || arm64)

package lspnet

import (
	"net"
	"syscall"
	"unsafe"
)

// mmsghdr is struct mmsghdr of <sys/socket.h> on 64-bit Linux: a msghdr and the length the
// kernel moved, padded to 8 bytes.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// batchState is the memory one recvmmsg or sendmmsg call points the kernel at. A socket
// keeps one for reading and one for writing (see getState), so a call allocates nothing.
type batchState struct {
	hdrs  [MaxBatch]mmsghdr
	iovs  [MaxBatch]syscall.Iovec
	names [MaxBatch]syscall.RawSockaddrInet6 // room for an IPv4 or IPv6 address
	ctrl  [MaxBatch][3]uint64                // a UDP_SEGMENT or UDP_GRO cmsg (CmsgSpace(4) bytes), aligned
	first [MaxBatch]int                      // write side: message k's first datagram
	segs  [MaxBatch]int                      // write side: how many datagrams message k carries

	// senders maps the raw addresses datagrams came from to the UDPAddr handed out for each,
	// so that a peer that keeps sending costs no allocation and is the same *UDPAddr every
	// time. Read side only; bounded by maxSenders.
	senders map[syscall.RawSockaddrInet6]*UDPAddr

	runs *runs // a GRO socket's read side, made on its first read

	// The system call a recvmmsg or sendmmsg hands the socket's RawConn, made once so that a
	// call allocates no closure, and what it takes and gives back: how many messages from
	// where, how many moved, the error number.
	recv, send func(fd uintptr) bool
	recvNow    func(fd uintptr)
	off, vlen  int
	moved      int
	errno      syscall.Errno
}

// newBatchState returns a batchState with its system calls made.
func newBatchState() *batchState {
	st := new(batchState)
	st.recv = func(fd uintptr) bool { return st.call(sysRecvmmsg, fd) }
	st.send = func(fd uintptr) bool { return st.call(sysSendmmsg, fd) }
	st.recvNow = func(fd uintptr) { st.call(sysRecvmmsg, fd) }
	return st
}

// call makes system call trap (recvmmsg or sendmmsg) on fd for the vlen messages from hdrs[off],
// reporting false, to wait for the socket, on EAGAIN or EINTR.
func (st *batchState) call(trap uintptr, fd uintptr) bool {
	r, _, e := syscall.Syscall6(trap, fd, uintptr(unsafe.Pointer(&st.hdrs[st.off])), uintptr(st.vlen), 0, 0, 0)
	if e == syscall.EAGAIN || e == syscall.EINTR {
		return false
	}
	st.moved, st.errno = int(r), e
	return true
}

// maxSenders bounds batchState.senders: past it the cache starts again, so a flood from
// ever-new addresses cannot grow it.
const maxSenders = 1024

// getState takes the socket's batchState from pool, or makes one if a concurrent call holds
// it. putState gives it back.
func getState(pool chan *batchState) *batchState {
	select {
	case st := <-pool:
		return st
	default:
		return newBatchState()
	}
}

func putState(pool chan *batchState, st *batchState) {
	select {
	case pool <- st:
	default:
	}
}

// sender returns the UDPAddr for the raw address sa, from the cache when it has been seen.
func (st *batchState) sender(sa *syscall.RawSockaddrInet6) *UDPAddr {
	if a, ok := st.senders[*sa]; ok {
		return a
	}
	if st.senders == nil || len(st.senders) >= maxSenders {
		st.senders = make(map[syscall.RawSockaddrInet6]*UDPAddr)
	}
	a := &UDPAddr{addr: sockaddrToUDP(sa)}
	st.senders[*sa] = a
	return a
}

// readBatch reads up to len(bufs) datagrams with one recvmmsg, waiting in the runtime's
// poller until at least one is there.
// Without wait it makes one attempt and returns 0 and no error if nothing is queued.
func (c *UDPConn) readBatch(bufs [][]byte, ns []int, addrs []*UDPAddr, wait bool) (int, error) {
	if c.raw == nil || len(bufs) == 0 {
		if !wait {
			return 0, ErrNotPollable
		}
		return c.readOne(bufs, ns, addrs)
	}
	st := getState(c.rstate)
	defer putState(c.rstate, st)
	if c.gro.Load() {
		return c.readRuns(st, bufs, ns, addrs, wait)
	}
	bufs = bufs[:min(len(bufs), MaxBatch)]
	n, err := c.recvmmsg(st, bufs, false, wait)
	for i := range n {
		ns[i] = int(st.hdrs[i].n)
		addrs[i] = c.from(st, i)
	}
	return n, err
}

// recvmmsg receives up to len(bufs) messages into bufs with one system call, with room for a
// UDP_GRO control message beside each if gro. With wait it waits in the runtime's poller
// until one is there (or the read deadline passes); without, it returns 0 if none is.
func (c *UDPConn) recvmmsg(st *batchState, bufs [][]byte, gro, wait bool) (int, error) {
	for i, b := range bufs {
		st.iovs[i] = syscall.Iovec{}
		if len(b) > 0 {
			st.iovs[i].Base = &b[0]
		}
		st.iovs[i].SetLen(len(b))
		h := &st.hdrs[i].hdr
		*h = syscall.Msghdr{Iov: &st.iovs[i], Iovlen: 1}
		if c.raddr == nil {
			// Zeroed, so that an IPv4 sender leaves the same bytes each time (the cache key).
			st.names[i] = syscall.RawSockaddrInet6{}
			h.Name, h.Namelen = (*byte)(unsafe.Pointer(&st.names[i])), uint32(unsafe.Sizeof(st.names[i]))
		}
		if gro {
			st.ctrl[i] = [3]uint64{}
			h.Control = (*byte)(unsafe.Pointer(&st.ctrl[i]))
			h.SetControllen(syscall.CmsgSpace(4))
		}
	}
	st.off, st.vlen, st.moved, st.errno = 0, len(bufs), 0, 0
	var err error
	if wait {
		err = c.raw.Read(st.recv)
	} else {
		// Control, unlike Read, ignores the read deadline: an attempt is made even after
		// SetReadDeadline has ended a wait. Nothing queued leaves moved at 0.
		err = c.raw.Control(st.recvNow)
	}
	if err != nil {
		return 0, err
	}
	if st.errno != 0 {
		// A dialed socket reports an ICMP error for an earlier write here, as Read does.
		return 0, &net.OpError{Op: "read", Net: "udp", Err: st.errno}
	}
	return st.moved, nil
}

// from returns the sender of message i of the last recvmmsg.
func (c *UDPConn) from(st *batchState, i int) *UDPAddr {
	if c.raddr != nil {
		return c.peer
	}
	return st.sender(&st.names[i])
}

// UDP generic receive offload (GRO), from <linux/udp.h>: the kernel hands over a run of
// datagrams of one size from one sender as one message, with their size in a control message
// (on loopback, a GSO send arrives that way without ever being cut apart).
const (
	udpGRO = 104 // UDP_GRO: the socket option, and the cmsg giving the datagrams' size

	groBufs   = 4       // messages one GRO read takes
	groBufLen = 1 << 16 // room for any run the kernel joins: at most 64 KB
)

// runs is what a GRO socket's reads keep between calls: the buffers the kernel fills and the
// datagrams cut from them that a caller has not taken yet.
type runs struct {
	bufs [groBufs][]byte
	left [][]byte // the datagrams of the last receive, views into bufs, and their senders;
	from []*UDPAddr
	next int // left[next:] are not returned yet (kept whole so that its storage is reused)
}

// Pollable reports whether ReadBatchNow works on the socket and SetReadDeadline ends a
// ReadBatch already waiting: true for an operating-system socket.
func (c *UDPConn) Pollable() bool { return c.raw != nil }

// EnableGRO asks the kernel to hand this socket runs of datagrams joined (UDP_GRO), which
// ReadBatch cuts apart again: fewer, larger messages for the kernel to queue and copy. It
// reports whether GRO is on. Read and ReadFromUDP would see a run as one datagram, so a
// socket with GRO on is to be read with ReadBatch only. ReadBatch calls on one socket from
// several goroutines at once may then lose datagrams, as the network may.
func (c *UDPConn) EnableGRO() bool {
	if c.raw == nil {
		return false
	}
	var serr error
	if err := c.raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), solUDP, udpGRO, 1)
	}); err != nil || serr != nil {
		return false
	}
	c.gro.Store(true)
	return true
}

// readRuns is readBatch on a GRO socket: it receives up to groBufs messages, cuts each into
// its datagrams, and copies as many as bufs holds into it (a shorter buffer truncates, as a
// read does), keeping the rest for the next call.
func (c *UDPConn) readRuns(st *batchState, bufs [][]byte, ns []int, addrs []*UDPAddr, wait bool) (int, error) {
	r := st.runs
	if r == nil {
		r = new(runs)
		for i := range r.bufs {
			r.bufs[i] = make([]byte, groBufLen)
		}
		st.runs = r
	}
	if r.next == len(r.left) {
		clear(r.from)
		r.left, r.from, r.next = r.left[:0], r.from[:0], 0
		n, err := c.recvmmsg(st, r.bufs[:], true, wait)
		if err != nil {
			return 0, err
		}
		for i := range n {
			b := r.bufs[i][:st.hdrs[i].n]
			size := groSize(&st.hdrs[i].hdr, &st.ctrl[i])
			from := c.from(st, i)
			if size <= 0 || size >= len(b) {
				r.left, r.from = append(r.left, b), append(r.from, from)
				continue
			}
			for off := 0; off < len(b); off += size {
				r.left, r.from = append(r.left, b[off:min(off+size, len(b))]), append(r.from, from)
			}
		}
	}
	k := min(len(bufs), len(r.left)-r.next)
	for i := range k {
		ns[i] = copy(bufs[i], r.left[r.next+i])
		addrs[i] = r.from[r.next+i]
	}
	r.next += k
	return k, nil
}

// groSize returns the datagram size of a joined run from a message's UDP_GRO control message,
// or 0 if it has none (a single datagram).
func groSize(h *syscall.Msghdr, ctrl *[3]uint64) int {
	if h.Controllen < uint64(syscall.CmsgLen(4)) {
		return 0
	}
	cm := (*syscall.Cmsghdr)(unsafe.Pointer(ctrl))
	if cm.Level != solUDP || cm.Type != udpGRO || cm.Len < uint64(syscall.CmsgLen(4)) {
		return 0
	}
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(ctrl), syscall.CmsgLen(0))))
}

// UDP generic segmentation offload (GSO), from <linux/udp.h>: one sendmsg carries many
// datagrams of one size (the last may be shorter) to one address, and the kernel cuts them
// apart as late as it can (on loopback, not at all when the receiver takes them whole). The
// wire is unchanged: each datagram is still its own datagram.
const (
	solUDP     = 17  // SOL_UDP
	udpSegment = 103 // UDP_SEGMENT: the cmsg giving the segment size

	gsoMaxSegs  = 64    // segments per send; the kernel takes up to 64 (older) or 128
	gsoMaxBytes = 65000 // bytes per send: within a UDP datagram's 16-bit length
)

// writeBatch sends the datagrams with as few sendmmsg calls as the kernel takes them in, each
// run of datagrams to one address that GSO can carry as one message.
func (c *UDPConn) writeBatch(bufs [][]byte, addrs []*UDPAddr) (int, error) {
	if c.raw == nil {
		return c.writeEach(bufs, addrs)
	}
	st := getState(c.wstate)
	defer putState(c.wstate, st)
	var lastErr error
	sent := 0
	for len(bufs) > 0 {
		chunk := bufs[:min(len(bufs), MaxBatch)]
		k := 0 // messages (msghdrs) in this call
		for i := 0; i < len(chunk); {
			var to *UDPAddr
			if c.raddr == nil {
				if addrs == nil || addrs[i] == nil || addrs[i].addr == nil {
					lastErr = ErrNoPeer
					i++
					continue
				}
				to = addrs[i]
			}
			segs := c.gsoRun(chunk[i:], addrs, i, to)
			h := &st.hdrs[k].hdr
			*h = syscall.Msghdr{}
			if to != nil {
				nl, ok := udpToSockaddr(to.addr, c.v4, &st.names[k])
				if !ok {
					lastErr = ErrNoPeer
					i++
					continue
				}
				h.Name, h.Namelen = (*byte)(unsafe.Pointer(&st.names[k])), nl
			}
			for j, b := range chunk[i : i+segs] {
				iov := &st.iovs[i+j]
				*iov = syscall.Iovec{}
				if len(b) > 0 {
					iov.Base = &b[0]
				}
				iov.SetLen(len(b))
			}
			h.Iov, h.Iovlen = &st.iovs[i], uint64(segs)
			if segs > 1 {
				cm := (*syscall.Cmsghdr)(unsafe.Pointer(&st.ctrl[k]))
				cm.Level, cm.Type = solUDP, udpSegment
				cm.SetLen(syscall.CmsgLen(2))
				*(*uint16)(unsafe.Add(unsafe.Pointer(&st.ctrl[k]), syscall.CmsgLen(0))) = uint16(len(chunk[i]))
				h.Control = (*byte)(unsafe.Pointer(&st.ctrl[k]))
				h.SetControllen(syscall.CmsgSpace(2))
			}
			st.first[k], st.segs[k] = i, segs
			k++
			i += segs
		}
		for off := 0; off < k; {
			st.off, st.vlen, st.moved, st.errno = off, k-off, 0, 0
			err := c.raw.Write(st.send)
			r, errno := st.moved, st.errno
			switch {
			case err != nil:
				return sent, err
			case errno != 0 && st.segs[off] > 1:
				// The kernel refused the segmented send (no GSO, or a segment too large for
				// the route): stop using GSO for datagrams this large and send these one by
				// one.
				c.gsoRefused(len(chunk[st.first[off]]), errno)
				first, segs := st.first[off], st.segs[off]
				var sub []*UDPAddr
				if addrs != nil {
					sub = addrs[first : first+segs]
				}
				n, err := c.writeBatch(chunk[first:first+segs], sub)
				sent += n
				if err != nil {
					lastErr = err
				}
				off++
			case errno != 0:
				// The first datagram of the call was refused: it is lost; go on after it.
				lastErr = &net.OpError{Op: "write", Net: "udp", Err: errno}
				off++
			default:
				for _, segs := range st.segs[off : off+r] {
					sent += segs
				}
				off += r
			}
		}
		if addrs != nil {
			addrs = addrs[len(chunk):]
		}
		bufs = bufs[len(chunk):]
	}
	return sent, lastErr
}

// gsoRun returns how many datagrams from the front of bufs (bufs[0] is datagram at of the
// batch, going to to) one GSO send can carry: a run of datagrams of bufs[0]'s size to the
// same address, and possibly one shorter to end it, within the kernel's limits. 1 means a
// plain send.
func (c *UDPConn) gsoRun(bufs [][]byte, addrs []*UDPAddr, at int, to *UDPAddr) int {
	size := len(bufs[0])
	if lim := c.gsoLimit.Load(); size == 0 || (lim != 0 && int64(size) >= lim) {
		return 1
	}
	segs, total := 1, size
	for j := 1; j < len(bufs) && segs < gsoMaxSegs; j++ {
		n := len(bufs[j])
		if n == 0 || n > size || total+n > gsoMaxBytes || (to != nil && addrs[at+j] != to) {
			break
		}
		segs++
		total += n
		if n < size {
			break
		}
	}
	return segs
}

// gsoRefused records that a GSO send of size-byte segments failed with errno: a segment
// larger than the route's MTU (EINVAL, EMSGSIZE) stops GSO for that size and larger; any other
// refusal (a kernel or device without it) stops GSO on the socket.
func (c *UDPConn) gsoRefused(size int, errno syscall.Errno) {
	limit := int64(1)
	if errno == syscall.EINVAL || errno == syscall.EMSGSIZE {
		limit = int64(size)
	}
	for {
		cur := c.gsoLimit.Load()
		if cur != 0 && cur <= limit || c.gsoLimit.CompareAndSwap(cur, limit) {
			return
		}
	}
}

// sockaddrToUDP decodes the sender's address the kernel wrote.
func sockaddrToUDP(sa *syscall.RawSockaddrInet6) *net.UDPAddr {
	port := func(p *uint16) int {
		b := (*[2]byte)(unsafe.Pointer(p))
		return int(b[0])<<8 | int(b[1])
	}
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return &net.UDPAddr{IP: net.IPv4(sa4.Addr[0], sa4.Addr[1], sa4.Addr[2], sa4.Addr[3]), Port: port(&sa4.Port)}
	case syscall.AF_INET6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, sa.Addr[:])
		a := &net.UDPAddr{IP: ip, Port: port(&sa.Port)}
		if sa.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return &net.UDPAddr{}
}

// udpToSockaddr encodes a for the kernel into sa, as the socket's family requires: an IPv4
// socket takes a sockaddr_in; an IPv6 one (the usual listening socket, dual-stack) takes IPv4
// addresses in their IPv4-mapped form.
func udpToSockaddr(a *net.UDPAddr, v4 bool, sa *syscall.RawSockaddrInet6) (uint32, bool) {
	setPort := func(p *uint16, port int) {
		b := (*[2]byte)(unsafe.Pointer(p))
		b[0], b[1] = byte(port>>8), byte(port)
	}
	if v4 {
		ip4 := a.IP.To4()
		if ip4 == nil {
			return 0, false
		}
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = syscall.AF_INET
		setPort(&sa4.Port, a.Port)
		copy(sa4.Addr[:], ip4)
		return uint32(unsafe.Sizeof(*sa4)), true
	}
	ip16 := a.IP.To16()
	if ip16 == nil {
		return 0, false
	}
	sa.Family = syscall.AF_INET6
	setPort(&sa.Port, a.Port)
	copy(sa.Addr[:], ip16)
	if a.Zone != "" {
		if ifi, err := net.InterfaceByName(a.Zone); err == nil {
			sa.Scope_id = uint32(ifi.Index)
		}
	}
	return uint32(unsafe.Sizeof(*sa)), true
}
