package tcpservetest

import (
	"errors"
	"net"
	"testing"
)

func TestFailsThenAccepts(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Wrap(inner, 2)
	defer ln.Close()
	other := errors.New("other")
	ln.Fail(other, 1)
	for i, want := range []error{ErrTemporary, ErrTemporary, other} {
		if _, err := ln.Accept(); err != want {
			t.Fatalf("Accept %d = %v, want %v", i, err, want)
		}
	}
	if n := ln.Failed(); n != 3 {
		t.Fatalf("Failed() = %d, want 3", n)
	}
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept after the failures: %v", err)
	}
	c.Close()
}
