package lsp_test

// Benchmarks of LSP against TCP on loopback, run side by side so that one run on one machine
// gives the ratio. Each reports messages/s (or round-trip percentiles) for both and the ratio
// as x-tcp: above 1 means LSP did better.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// benchParams are the Params of the benchmarks: epochs short enough to recover from loss
// quickly, long enough not to resend what is merely queued on a busy machine.
func benchParams(window int) *lsp.Params {
	return params(50, 20, window, window, 2)
}

// lspPair starts a server with conns clients connected to it, on the operating system's UDP
// under faults of the benchmark's own (nw).
func lspPair(b *testing.B, nw *lspnet.Network, p *lsp.Params, conns int) (lsp.Server, []lsp.Client) {
	b.Helper()
	s, err := lsp.NewServerWith(0, p, lsp.WithListen(nw.ListenUDP))
	if err != nil {
		b.Fatal(err)
	}
	_, port, _ := lspnet.SplitHostPort(s.(interface{ Addr() string }).Addr())
	var cs []lsp.Client
	for i := range conns {
		c, err := lsp.NewClientWith("127.0.0.1:"+port, i, p, lsp.WithDial(nw.DialUDP))
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
	}
	b.Cleanup(func() {
		for _, c := range cs {
			c.Close()
		}
		s.Close()
	})
	return s, cs
}

// lspThroughput sends n messages of size bytes from the clients to the server, split evenly,
// and returns messages/s from the first write to the last read.
func lspThroughput(b *testing.B, nw *lspnet.Network, p *lsp.Params, conns, size, n int) float64 {
	return rate(n, lspStream(b, nw, p, conns, size))
}

// stream sends n messages over connections set up beforehand and returns how long that took
// from the first write to the last read, so that one benchmark can take turns between them.
type stream func(n int) time.Duration

// rate is the messages/s of one run of n messages on s.
func rate(n int, s stream) float64 { return float64(n) / s(n).Seconds() }

// lspStream connects conns clients to a server; each run sends n messages of size bytes from
// the clients to the server, split evenly.
func lspStream(b *testing.B, nw *lspnet.Network, p *lsp.Params, conns, size int) stream {
	s, cs := lspPair(b, nw, p, conns)
	payload := make([]byte, size)
	return func(n int) time.Duration {
		per := max(n/conns, 1)
		// Write never blocks, so without credit the writers would queue all n messages in
		// memory at once; a few thousand in flight is far more than any window.
		credit := make(chan struct{}, 4096)
		start := time.Now()
		for _, c := range cs {
			go func() {
				for range per {
					credit <- struct{}{}
					if c.Write(payload) != nil {
						return
					}
				}
			}()
		}
		for range per * conns {
			if _, _, err := s.Read(); err != nil {
				b.Fatal(err)
			}
			<-credit
		}
		return time.Since(start)
	}
}

// takeTurns runs n messages on each stream in rounds of about a twentieth of n each, the
// streams taking turns in rotating order, and returns each one's messages/s over all its
// rounds. On a machine shared with other work, a change of load then falls on every stream
// alike instead of on whichever ran at that moment.
func takeTurns(n int, streams ...stream) []float64 {
	const rounds = 20
	chunk := max(n/rounds, 1)
	spent := make([]time.Duration, len(streams))
	done := make([]int, len(streams))
	for r := 0; done[0] < n; r++ {
		k := min(chunk, n-done[0])
		for i := range streams {
			j := (i + r) % len(streams)
			spent[j] += streams[j](k)
			done[j] += k
		}
	}
	rates := make([]float64, len(streams))
	for i := range streams {
		rates[i] = float64(done[i]) / spent[i].Seconds()
	}
	return rates
}

// tcpPair opens conns TCP connections on loopback and returns both ends of each.
func tcpPair(b *testing.B, conns int) (servers, clients []net.Conn) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	for range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		clients, servers = append(clients, c), append(servers, s)
	}
	b.Cleanup(func() {
		for i := range clients {
			clients[i].Close()
			servers[i].Close()
		}
	})
	return servers, clients
}

// tcpWrite sends one length-prefixed message in one write, as LSP sends one datagram.
func tcpWrite(c net.Conn, frame []byte) error {
	_, err := c.Write(frame)
	return err
}

func tcpFrame(size int) []byte {
	f := make([]byte, 4+size)
	binary.BigEndian.PutUint32(f, uint32(size))
	return f
}

func tcpRead(r *bufio.Reader, buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(buf[:4])
	if int(n) > len(buf) {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	_, err := io.ReadFull(r, buf[:n])
	return buf[:n], err
}

// tcpThroughput is lspThroughput over TCP, with a reader per connection feeding one counter
// as the LSP server's single Read does.
func tcpThroughput(b *testing.B, conns, size, n int) float64 {
	return rate(n, tcpStream(b, conns, size))
}

// tcpStream is lspStream over TCP.
func tcpStream(b *testing.B, conns, size int) stream {
	servers, clients := tcpPair(b, conns)
	readers := make([]*bufio.Reader, conns)
	for i := range servers {
		readers[i] = bufio.NewReader(servers[i])
	}
	frame := tcpFrame(size)
	return func(n int) time.Duration {
		per := max(n/conns, 1)
		got := make(chan struct{}, 1024)
		start := time.Now()
		for i := range conns {
			go func() {
				for range per {
					if tcpWrite(clients[i], frame) != nil {
						return
					}
				}
			}()
			go func() {
				buf := make([]byte, 4+size)
				for range per {
					if _, err := tcpRead(readers[i], buf); err != nil {
						return
					}
					got <- struct{}{}
				}
			}()
		}
		for range per * conns {
			<-got
		}
		return time.Since(start)
	}
}

// BenchmarkThroughput compares one-way message throughput, LSP against TCP.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{64, 1024} {
		for _, conns := range []int{1, 8} {
			for _, window := range []int{1, 64} {
				b.Run(fmt.Sprintf("size=%d/conns=%d/window=%d", size, conns, window), func(b *testing.B) {
					b.ReportAllocs()
					r := takeTurns(b.N, tcpStream(b, conns, size),
						lspStream(b, lspnet.NewNetwork(), benchParams(window), conns, size))
					tcp, ours := r[0], r[1]
					b.ReportMetric(ours, "lsp-msg/s")
					b.ReportMetric(tcp, "tcp-msg/s")
					b.ReportMetric(ours/tcp, "x-tcp")
				})
			}
		}
	}
}

// percentiles returns the 50th and 99th percentiles of ds in microseconds.
func percentiles(ds []time.Duration) (p50, p99 float64) {
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(int(q*float64(len(ds))), len(ds)-1)]) / float64(time.Microsecond)
	}
	return at(0.50), at(0.99)
}

// BenchmarkRoundTrip compares the round-trip latency of one message echoed by the server,
// TCP and LSP taking turns (see takeTurns).
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			rtts := echoTurns(b.N, tcpEchoes(b, size), lspEchoes(b, size))
			t50, t99 := percentiles(rtts[0])
			l50, l99 := percentiles(rtts[1])
			b.ReportMetric(l50, "lsp-p50-µs")
			b.ReportMetric(l99, "lsp-p99-µs")
			b.ReportMetric(t50, "tcp-p50-µs")
			b.ReportMetric(t99, "tcp-p99-µs")
			b.ReportMetric(l50/t50, "p50-x-tcp")
		})
	}
}

// echoes times one echo per element of rtt, over a connection set up beforehand.
type echoes func(rtt []time.Duration)

// echoTurns times n echoes on each of es, in rounds taking turns as takeTurns does, and
// returns each one's round-trip times.
func echoTurns(n int, es ...echoes) [][]time.Duration {
	const rounds = 20
	chunk := max(n/rounds, 1)
	rtts := make([][]time.Duration, len(es))
	for i := range rtts {
		rtts[i] = make([]time.Duration, n)
	}
	for r, done := 0, 0; done < n; r++ {
		k := min(chunk, n-done)
		for i := range es {
			j := (i + r) % len(es)
			es[j](rtts[j][done : done+k])
		}
		done += k
	}
	return rtts
}

// tcpEchoes echoes size-byte frames over a loopback TCP connection.
func tcpEchoes(b *testing.B, size int) echoes {
	servers, clients := tcpPair(b, 1)
	go func() {
		r := bufio.NewReader(servers[0])
		buf := make([]byte, 4+size)
		for {
			m, err := tcpRead(r, buf)
			if err != nil {
				return
			}
			if tcpWrite(servers[0], tcpFrame(len(m))) != nil {
				return
			}
		}
	}()
	frame := tcpFrame(size)
	r := bufio.NewReader(clients[0])
	buf := make([]byte, 4+size)
	return func(rtt []time.Duration) {
		for i := range rtt {
			t0 := time.Now()
			tcpWrite(clients[0], frame)
			if _, err := tcpRead(r, buf); err != nil {
				b.Fatal(err)
			}
			rtt[i] = time.Since(t0)
		}
	}
}

// lspEchoes echoes size-byte payloads over LSP at window 1, the server writing back what it
// reads.
func lspEchoes(b *testing.B, size int) echoes {
	s, cs := lspPair(b, lspnet.NewNetwork(), benchParams(1), 1)
	go func() {
		for {
			id, p, err := s.Read()
			if err != nil {
				return
			}
			s.Write(id, p)
		}
	}()
	payload := make([]byte, size)
	return func(rtt []time.Duration) {
		for i := range rtt {
			t0 := time.Now()
			cs[0].Write(payload)
			if _, err := cs[0].Read(); err != nil {
				b.Fatal(err)
			}
			rtt[i] = time.Since(t0)
		}
	}
}

// BenchmarkLossy measures LSP throughput of 1 KB messages, window 64, with loss in both
// directions, beside the same run on a perfect network.
func BenchmarkLossy(b *testing.B) {
	for _, drop := range []int{0, 10, 30} {
		b.Run("drop="+strconv.Itoa(drop), func(b *testing.B) {
			p := params(10, 100, 64, 64, 2)
			nw := lspnet.NewNetwork()
			nw.SetClientWriteDropPercent(drop)
			nw.SetClientReadDropPercent(drop)
			b.ReportMetric(lspThroughput(b, nw, p, 1, 1024, b.N), "lsp-msg/s")
		})
	}
}

// BenchmarkRoundTripFloor measures what any implementation of LSP's wire protocol pays per
// echo at window 1 on loopback: the four datagrams LSP exchanges (data, its ack, the echoed
// data, its ack), already encoded, over raw UDP sockets with one goroutine per end and no
// event loop, decoding or state. Beside it, the same with only the two data datagrams (the
// cost with piggybacked acks, as TCP has). lsp-p50-µs is the full LSP stack, the three taking
// turns (see takeTurns), and x-floor its ratio to the four-datagram floor.
func BenchmarkRoundTripFloor(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			payload := make([]byte, size)
			data := lsp.NewData(1, 1, size, payload, lsp.CalculateChecksum(1, 1, size, payload)).Marshal()
			ack := lsp.NewCAck(1, 1).Marshal()
			rtts := echoTurns(b.N, udpEchoes(b, b.N, data, ack), udpEchoes(b, b.N, data, nil), lspEchoes(b, size))
			f50, _ := percentiles(rtts[0])
			t50, _ := percentiles(rtts[1])
			l50, _ := percentiles(rtts[2])
			b.ReportMetric(f50, "udp4-p50-µs")
			b.ReportMetric(t50, "udp2-p50-µs")
			b.ReportMetric(l50, "lsp-p50-µs")
			b.ReportMetric(l50/f50, "x-floor")
		})
	}
}

// udpPair opens a raw UDP socket listening like LSP's server (every address, dual stack) and
// one dialed to it on 127.0.0.1, closed when the benchmark ends. Their reads time out after a
// minute plus 1 ms per message: loopback does not lose these datagrams, but a benchmark must
// not hang if it does.
func udpPair(b *testing.B, n int) (srv, cli *net.UDPConn) {
	b.Helper()
	srv, err := net.ListenUDP("udp", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	cli, err = net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cli.Close() })
	deadline := time.Now().Add(time.Minute + time.Duration(n)*time.Millisecond)
	srv.SetReadDeadline(deadline)
	cli.SetReadDeadline(deadline)
	return srv, cli
}

// udpEchoes echoes data over raw loopback UDP; total is how many echoes all its runs make
// together, which bounds how long a read may wait. With a non-nil ack, each data datagram is
// answered with ack before anything else, as LSP does: the client's time stops when the echo
// arrives (after the server's ack), and it acks the echo before the next send.
func udpEchoes(b *testing.B, total int, data, ack []byte) echoes {
	srv, cli := udpPair(b, total)
	go func() {
		buf := make([]byte, lsp.MaxDatagram)
		for {
			_, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if ack != nil {
				srv.WriteToUDPAddrPort(ack, from)
			}
			srv.WriteToUDPAddrPort(data, from)
			if ack != nil {
				if _, _, err := srv.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
			}
		}
	}()
	buf := make([]byte, lsp.MaxDatagram)
	return func(rtt []time.Duration) {
		for i := range rtt {
			t0 := time.Now()
			if _, err := cli.Write(data); err != nil {
				b.Fatal(err)
			}
			if ack != nil {
				if _, err := cli.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := cli.Read(buf); err != nil {
				b.Fatal(err)
			}
			rtt[i] = time.Since(t0)
			if ack != nil {
				if _, err := cli.Write(ack); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkThroughputFloor measures the one-way rate of already-encoded 1 KB LSP data
// datagrams over raw loopback UDP, one datagram per write and per read as LSP does, with at
// most 64 in flight (the receiver returns a credit in-process per datagram, so no ack
// datagram is sent). It is what any implementation of the wire protocol at window 64 is
// bounded by on this machine; LSP and TCP run beside it, the three taking turns (takeTurns),
// and both of LSP's ratios are printed.
func BenchmarkThroughputFloor(b *testing.B) {
	const size, window = 1024, 64
	payload := make([]byte, size)
	data := lsp.NewData(1, 1, size, payload, lsp.CalculateChecksum(1, 1, size, payload)).Marshal()
	r := takeTurns(b.N,
		udpStream(b, b.N, data, window),
		tcpStream(b, 1, size),
		lspStream(b, lspnet.NewNetwork(), benchParams(window), 1, size))
	udp, tcp, ours := r[0], r[1], r[2]
	b.ReportMetric(udp, "udp-msg/s")
	b.ReportMetric(tcp, "tcp-msg/s")
	b.ReportMetric(ours, "lsp-msg/s")
	b.ReportMetric(ours/udp, "x-floor")
	b.ReportMetric(ours/tcp, "x-tcp")
}

// udpStream sends already-encoded data datagrams over raw loopback UDP with at most window
// unreceived; total is how many all its runs send together, which bounds how long a read may
// wait.
func udpStream(b *testing.B, total int, data []byte, window int) stream {
	srv, cli := udpPair(b, total)
	buf := make([]byte, lsp.MaxDatagram)
	return func(n int) time.Duration {
		credit := make(chan struct{}, window)
		done := make(chan struct{})
		defer close(done)
		start := time.Now()
		go func() {
			for range n {
				select {
				case credit <- struct{}{}:
				case <-done:
					return
				}
				if _, err := cli.Write(data); err != nil {
					return
				}
			}
		}()
		for range n {
			if _, err := srv.Read(buf); err != nil {
				b.Fatal(err)
			}
			<-credit
		}
		return time.Since(start)
	}
}
