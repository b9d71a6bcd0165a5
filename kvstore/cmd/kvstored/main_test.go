package main

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
)

func kvstored(ctx context.Context, args ...string) (status int, stdout, stderr string) {
	return program().Capture(ctx, nil, args...)
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"-h"}, 0, ""},
		{[]string{"-actors", "0"}, 2, "kvstored: -actors must be at least 1\nusage:"},
		{[]string{"-latency", "-1s"}, 2, `invalid value "-1s" for flag -latency: must not be negative`},
		{[]string{"-drop-after", "0s"}, 2, "-drop-after must be positive"},
		{[]string{"-port", "65535"}, 2, "out of range"},
		{[]string{"-peer-acks", "-1"}, 2, `invalid value "-1" for flag -peer-acks`},
		{[]string{"-put-timeout", "0s"}, 2, "-put-timeout must be positive"},
		{[]string{"-route", "127.0.0.1:1"}, 2, `want ADDR=VIA`},
		{[]string{"-route", "127.0.0.1:1=nope"}, 2, `"nope" is not host:port`},
		{[]string{"-port", "0", "nodesc"}, 2, `kvstored: kvstore: malformed server desc "nodesc"`},
	} {
		status, _, stderr := kvstored(context.Background(), tc.args...)
		if status != tc.status || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("kvstored %q: status %d, stderr %q; want %d, %q", tc.args, status, stderr, tc.status, tc.stderr)
		}
	}
}

// With its context ended (SIGINT), kvstored prints its desc, closes and exits 0.
func TestServesUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	status, stdout, stderr := kvstored(ctx, "-port", "0", "-actors", "2")
	if status != 0 || !regexp.MustCompile(`^127\.0\.0\.1:\d+/\d+,\d+\n$`).MatchString(stdout) || !strings.Contains(stderr, "kvstored stopped") {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

// A routed address is dialled through its VIA; any other address directly.
func TestRoutedTransport(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	via := routes{}
	if err := via.Set("127.0.0.1:9=" + ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	tr := routedTransport{via: via}
	c, err := tr.Dial(context.Background(), "127.0.0.1:9")
	if err != nil {
		t.Fatalf("dial through the route: %v", err)
	}
	c.Close()
	if got := via.String(); got != "127.0.0.1:9="+ln.Addr().String() {
		t.Errorf("routes print as %q", got)
	}
	ln.Close()
	if _, err := tr.Dial(context.Background(), ln.Addr().String()); err == nil {
		t.Error("a closed address that is not routed was reached")
	}
}
