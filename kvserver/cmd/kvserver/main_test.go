package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// The program serves both protocols on the port it prints and exits 0 on SIGTERM and SIGINT.
func TestProgram(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildBinary(t, "ds440/kvserver/cmd/kvserver")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		p := testutil.StartProc(t, bin, "-port", "0")
		addr := p.WaitLine(t, `^kvserver listening on (127\.0\.0\.1:\d+)$`, 30*time.Second)[1]

		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprint(conn, "Put:k:v\nGet:k\n")
		r := bufio.NewReader(conn)
		if line, err := r.ReadString('\n'); line != "k:v\n" {
			t.Fatalf("text Get: %q, %v", line, err)
		}
		resp, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprint(resp, "*1\r\n$4\r\nPING\r\n")
		if line, err := bufio.NewReader(resp).ReadString('\n'); line != "+PONG\r\n" {
			t.Fatalf("PING: %q, %v", line, err)
		}

		if err := p.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(t, 10*time.Second); err != nil {
			t.Fatalf("exit after %v: %v", sig, err)
		}
		conn.Close()
		resp.Close()
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-port", "x"},
		{"-port", "70000"},
		{"-port", "-1"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), "usage: kvserver") {
			t.Errorf("%q: no usage on stderr:\n%s", args, stderr.String())
		}
	}
}

// A port that is taken is reported, with exit 1 and no stack trace.
func TestPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stderr bytes.Buffer
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	if code := run(context.Background(), []string{"-port", port}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "cannot start") || strings.Contains(stderr.String(), "goroutine") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
}
