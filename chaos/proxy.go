package chaos

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"ds440/internal/tcpserve"
)

// Fault is what a Link does to the traffic it carries. The zero Fault passes everything.
type Fault struct {
	// Cut refuses the link: open connections are reset and new ones closed at once, as when a
	// host is unreachable and the peer's kernel answers with a reset.
	Cut bool
	// Hang blackholes the link: connections stay open but nothing crosses in either direction
	// until the fault is lifted (then the held bytes flow on), as when packets are dropped.
	Hang bool
	// Delay holds every chunk of bytes this long before passing it on, in order.
	Delay time.Duration
	// ResetPercent is the chance, per chunk forwarded, that the connection is reset instead.
	ResetPercent int
}

// Link is a TCP proxy for one direction of a network link: connections made to Addr are
// forwarded to the target, through the Link's current Fault. Both directions of a connection
// cross the Link (a request and its reply), so a partition between two servers that both dial
// each other takes two Links, one per dialer.
type Link struct {
	target string
	srv    *tcpserve.Server
	quit   chan struct{} // closed by Close: ends every wait
	closer sync.Once

	mu      sync.Mutex
	fault   Fault
	changed chan struct{} // closed and replaced when the fault changes
	conns   map[*pipe]struct{}
	rng     *rand.Rand
}

// NewLink listens on a free loopback port and forwards to target.
func NewLink(target string, seed uint64) (*Link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &Link{target: target, quit: make(chan struct{}), changed: make(chan struct{}), conns: map[*pipe]struct{}{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	l.srv = tcpserve.Start(ln, l.serve, nil)
	return l, nil
}

// Addr is the address to dial instead of the target.
func (l *Link) Addr() string { return l.srv.Addr().String() }

// Target is the address the link forwards to.
func (l *Link) Target() string { return l.target }

// Fault returns the link's current fault.
func (l *Link) Fault() Fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fault
}

// SetFault changes what the link does from now on. Cutting resets every open connection.
func (l *Link) SetFault(f Fault) {
	l.mu.Lock()
	l.fault = f
	close(l.changed)
	l.changed = make(chan struct{})
	var cut []*pipe
	if f.Cut {
		for p := range l.conns {
			cut = append(cut, p)
		}
	}
	l.mu.Unlock()
	for _, p := range cut {
		p.reset()
	}
}

// Close stops the link and closes every connection through it. It is safe to call twice.
func (l *Link) Close() error {
	l.closer.Do(func() { close(l.quit) })
	return l.srv.Close()
}

// now returns the fault, a channel closed at its next change, and a random draw in [0, 100).
func (l *Link) now() (Fault, <-chan struct{}, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fault, l.changed, l.rng.IntN(100)
}

// pipe is one proxied connection.
type pipe struct {
	client, server net.Conn
	done           chan struct{} // closed by reset
	once           sync.Once
}

func newPipe(client, server net.Conn) *pipe {
	return &pipe{client: client, server: server, done: make(chan struct{})}
}

// reset closes both ends with a TCP reset where possible, so the peers see a failure at once.
func (p *pipe) reset() {
	p.once.Do(func() {
		close(p.done)
		for _, c := range []net.Conn{p.client, p.server} {
			if c == nil {
				continue
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
		}
	})
}

func (l *Link) serve(client net.Conn) {
	if f, _ := l.state(); f.Cut {
		newPipe(client, nil).reset()
		return
	}
	server, err := net.DialTimeout("tcp", l.target, 5*time.Second)
	if err != nil {
		newPipe(client, nil).reset()
		return
	}
	p := newPipe(client, server)
	l.mu.Lock()
	l.conns[p] = struct{}{}
	l.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { l.forward(p, server, client) })
	wg.Go(func() { l.forward(p, client, server) })
	wg.Wait() // either direction failing resets the pipe, which ends the other
	l.mu.Lock()
	delete(l.conns, p)
	l.mu.Unlock()
}

// state returns the fault and a channel closed at its next change.
func (l *Link) state() (Fault, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fault, l.changed
}

// draw returns a random number in [0, 100).
func (l *Link) draw() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.IntN(100)
}

// chunk is bytes read from one end and when they arrived.
type chunk struct {
	data []byte
	at   time.Time
}

// forward copies from src to dst through the link's fault: a reader goroutine stamps each
// chunk with its arrival, and this goroutine releases the chunks in order once the fault lets
// them through. It resets the pipe when either end fails or the fault says so.
func (l *Link) forward(p *pipe, dst, src net.Conn) {
	chunks := make(chan chunk, 64)
	var reader sync.WaitGroup
	reader.Go(func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- chunk{data: buf[:n], at: time.Now()}:
				case <-p.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	defer reader.Wait()
	defer p.reset()
	for c := range chunks {
		if !l.release(p, c) {
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// release waits until c may be passed on under the link's fault; false means reset instead.
func (l *Link) release(p *pipe, c chunk) bool {
	draw := l.draw()
	for {
		f, changed := l.state()
		if f.Cut || draw < f.ResetPercent {
			return false
		}
		var due <-chan time.Time // nil while hung: only a change of fault moves on
		if !f.Hang {
			wait := time.Until(c.at.Add(f.Delay))
			if wait <= 0 {
				return true
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			due = t.C
		}
		select {
		case <-due:
			return true
		case <-changed: // look again: the delay may be shorter now, or the hang lifted
		case <-p.done:
			return false
		case <-l.quit:
			return false
		}
	}
}
