package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"ds440/chaos"
	"ds440/internal/freeport"
	"ds440/internal/workload"
)

// runKVServer checks that kvserver with an fsync'd append-only file loses nothing it has
// acknowledged: clients append numbered values to their own lists (RPUSH, answered only once
// the value is on disk), while the server is killed with SIGKILL and restarted over and over.
// At the end every acknowledged value must be in its list, in order, and no value twice.
func runKVServer(ctx context.Context, r *run) (string, error) {
	port, err := freeport.TCP(1)
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	srv := &chaos.Process{
		Name: "kvserver",
		Bin:  r.bin["ds440/kvserver/cmd/kvserver"],
		Args: []string{"-port", strconv.Itoa(port), "-aof", filepath.Join(r.dir, "kv.aof"), "-fsync", "always"},
		Log:  filepath.Join(r.dir, "kvserver.log"),
	}
	if err := srv.Start(); err != nil {
		return "", err
	}
	defer srv.Kill()
	if err := waitListening(ctx, addr, 30*time.Second); err != nil {
		return "", fmt.Errorf("kvserver did not start: %v\n%s", err, srv.Tail(2000))
	}

	const clients = 8
	acked := make([][]int, clients) // acked[i]: values client i saw acknowledged, in order
	workCtx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { acked[i] = appendLoop(workCtx, addr, fmt.Sprintf("chaos:%d", i)) })
	}

	// The nemesis: SIGKILL at random moments, restart after a short outage.
	kills := 0
	deadline := time.Now().Add(r.duration)
	period := max(r.duration/25, 200*time.Millisecond)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		sleep(ctx, r.jitter(period))
		srv.Kill()
		kills++
		sleep(ctx, r.jitter(period/4))
		if err := srv.Start(); err != nil {
			stopWork()
			wg.Wait()
			return "", err
		}
		if err := waitListening(ctx, addr, 30*time.Second); err != nil {
			stopWork()
			wg.Wait()
			return "", fmt.Errorf("kvserver did not restart after kill %d: %v\n%s", kills, err, srv.Tail(2000))
		}
	}
	stopWork()
	wg.Wait()
	r.log("%d kills; checking", kills)

	c, err := workload.DialRESP(addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	lists := make([][]any, clients)
	for i := range clients {
		reply, err := c.Do(30*time.Second, "LRANGE", fmt.Sprintf("chaos:%d", i), "0", "-1")
		if err != nil {
			return "", fmt.Errorf("reading list %d: %v", i, err)
		}
		lists[i], _ = reply.([]any)
	}
	total, err := checkAppends(acked, lists)
	if err != nil {
		return "", fmt.Errorf("over %d SIGKILLs: %w", kills, err)
	}
	if total == 0 {
		return "", fmt.Errorf("no write was acknowledged in %d kills: the run proves nothing", kills)
	}
	return fmt.Sprintf("%d acknowledged writes, 0 lost over %d SIGKILLs", total, kills), nil
}

// checkAppends checks each list read back against the values its client saw acknowledged:
// every acknowledged value present, values in the order sent, none twice, none unknown. It
// returns how many acknowledged values it checked.
func checkAppends(acked [][]int, lists [][]any) (int, error) {
	total, lost := 0, 0
	var first error
	for i, items := range lists {
		var have []int
		for _, it := range items {
			s, _ := it.(string)
			n, err := strconv.Atoi(s)
			if err != nil {
				return 0, fmt.Errorf("list %d holds %q, which no client wrote", i, it)
			}
			have = append(have, n)
		}
		if !slices.IsSorted(have) || len(slices.Compact(slices.Clone(have))) != len(have) {
			return 0, fmt.Errorf("list %d is out of order or repeats a value: %v", i, have)
		}
		for _, v := range acked[i] {
			total++
			if _, found := slices.BinarySearch(have, v); !found {
				lost++
				if first == nil {
					first = fmt.Errorf("client %d: acknowledged value %d is gone", i, v)
				}
			}
		}
	}
	if lost > 0 {
		return total, fmt.Errorf("%d of %d acknowledged writes lost (first: %w)", lost, total, first)
	}
	return total, nil
}

// appendLoop appends 0, 1, 2, ... to key until ctx ends, reconnecting whenever the server
// goes away, and returns the values whose RPUSH was answered. A value whose answer was lost
// is not sent again, so it may or may not be in the list.
func appendLoop(ctx context.Context, addr, key string) []int {
	var acked []int
	var c *workload.RESPConn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for next := 0; ctx.Err() == nil; next++ {
		if c == nil {
			var err error
			if c, err = workload.DialRESP(addr, time.Second); err != nil {
				c = nil
				sleep(ctx, 20*time.Millisecond)
				next-- // nothing was sent: try the same value again
				continue
			}
		}
		if _, err := c.Do(5*time.Second, "RPUSH", key, strconv.Itoa(next)); err != nil {
			c.Close()
			c = nil
			continue
		}
		acked = append(acked, next)
	}
	return acked
}

// waitListening waits until addr accepts a connection.
func waitListening(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		sleep(ctx, 20*time.Millisecond)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
