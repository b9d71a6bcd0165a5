package chaos

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"ds440/internal/tcpserve"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := tcpserve.Start(ln, func(c net.Conn) { io.Copy(c, c) }, nil)
	t.Cleanup(func() { s.Close() })
	return s.Addr().String()
}

func newLink(t *testing.T, target string) *Link {
	t.Helper()
	l, err := NewLink(target, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := tryDial(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tryDial connects to addr; across a cut link the connection may be reset before Dial returns.
func tryDial(t *testing.T, addr string) (*client, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &client{c, bufio.NewReader(c)}, nil
}

// ask sends a line and waits up to timeout for its echo.
func (c *client) ask(line string, timeout time.Duration) (string, error) {
	c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func TestLinkPassesTraffic(t *testing.T) {
	t.Parallel()
	l := newLink(t, echoServer(t))
	c := dial(t, l.Addr())
	for _, msg := range []string{"one", strings.Repeat("x", 100_000), "three"} {
		if got, err := c.ask(msg, 5*time.Second); err != nil || got != msg {
			t.Fatalf("echo of %d bytes = %d bytes, %v", len(msg), len(got), err)
		}
	}
}

func TestLinkCutResetsAndRefuses(t *testing.T) {
	t.Parallel()
	l := newLink(t, echoServer(t))
	c := dial(t, l.Addr())
	if _, err := c.ask("before", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	l.SetFault(Fault{Cut: true})
	if _, err := c.ask("during", 5*time.Second); err == nil {
		t.Fatal("an open connection still works across a cut link")
	}
	if c, err := tryDial(t, l.Addr()); err == nil {
		if _, err := c.ask("new", 5*time.Second); err == nil {
			t.Fatal("a new connection works across a cut link")
		}
	}
	l.SetFault(Fault{})
	if got, err := dial(t, l.Addr()).ask("healed", 5*time.Second); err != nil || got != "healed" {
		t.Fatalf("after healing: %q, %v", got, err)
	}
}

func TestLinkHangHoldsThenReleases(t *testing.T) {
	t.Parallel()
	l := newLink(t, echoServer(t))
	c := dial(t, l.Addr())
	l.SetFault(Fault{Hang: true})
	if _, err := c.ask("held", 200*time.Millisecond); err == nil {
		t.Fatal("a reply crossed a hung link")
	}
	// The timeout broke this client's deadline, not the connection: the held bytes arrive
	// once the link is healed.
	l.SetFault(Fault{})
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := c.r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("after healing: %q, %v", got, err)
	}
}

func TestLinkDelay(t *testing.T) {
	t.Parallel()
	l := newLink(t, echoServer(t))
	c := dial(t, l.Addr())
	l.SetFault(Fault{Delay: 100 * time.Millisecond})
	start := time.Now()
	if _, err := c.ask("slow", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Both directions cross the link: at least two delays.
	if rtt := time.Since(start); rtt < 200*time.Millisecond {
		t.Fatalf("round trip %v through a 100 ms link, want >= 200 ms", rtt)
	}
}

func TestLinkResetPercent(t *testing.T) {
	t.Parallel()
	l := newLink(t, echoServer(t))
	l.SetFault(Fault{ResetPercent: 100})
	if _, err := dial(t, l.Addr()).ask("x", 5*time.Second); err == nil {
		t.Fatal("a connection survived a 100% reset link")
	}
}

func TestLinkCloseWhileHung(t *testing.T) {
	t.Parallel()
	l, err := NewLink(echoServer(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr())
	l.SetFault(Fault{Hang: true})
	c.ask("stuck", 100*time.Millisecond)
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a connection held by a hung link")
	}
	l.Close()
}
