package bitcoin_test

import (
	"context"
	"encoding/json"
	"flag"
	"testing"
	"testing/synctest"
	"time"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/lspflag"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// A miner that dies without a word (its LSP connection closed: no goodbye, no more heartbeats)
// is noticed within the programs' default epoch*limit, about a second, and the chunk it held
// goes to the next miner, whose answer completes the job. LSP runs on an in-memory network in
// a synctest bubble: the second is LSP's epochs counted in fake time, exact however busy the
// machine (the program test measures the same on real processes).
func TestLSPDeadMinerChunkHandedOnWithinASecond(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testLSPDeadMinerChunkHandedOn)
}

func testLSPDeadMinerChunkHandedOn(t *testing.T) {
	var flags lspflag.Flags
	flags.Register(flag.NewFlagSet("test", flag.ContinueOnError))
	params, err := flags.Params() // the programs' defaults
	if err != nil {
		t.Fatal(err)
	}
	detect := time.Duration(params.EpochMillis) * time.Millisecond * time.Duration(params.EpochLimit)
	if detect > time.Second {
		t.Fatalf("the programs' defaults notice a dead peer after %v, want at most a second", detect)
	}

	const data, upper = "handed on", 49_999 // one chunk: the whole job goes to the first miner
	cluster := startLSPCluster(t, lspnet.NewMemNetwork(), params, bitcoin.ServerConfig{
		InitialChunk: upper + 1, MinChunk: 1_000,
	}, 0)
	dial := func(seq int) lsp.Client {
		t.Helper()
		c, err := cluster.dial(seq)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	request := func(c lsp.Client) *bitcoin.Message {
		t.Helper()
		p, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		var m *bitcoin.Message
		err = json.Unmarshal(p, &m)
		if err != nil || m.Type != bitcoin.Request {
			t.Fatalf("miner got %v, %v; want a Request", m, err)
		}
		return m
	}

	dying := dial(100)
	dying.Write(wire(bitcoin.NewJoin()))
	type result struct {
		hash, nonce uint64
		err         error
	}
	answer := make(chan result, 1)
	client := dial(200)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		hash, nonce, err := bitcoin.Submit(ctx, client, data, 0, upper)
		answer <- result{hash, nonce, err}
	}()
	held := request(dying)
	healthy := dial(300)
	healthy.Write(wire(bitcoin.NewJoin()))

	killed := time.Now()
	dying.Close() // LSP has no goodbye: the server only stops hearing from it
	got := request(healthy)
	handedOn := time.Since(killed)
	t.Logf("chunk [%d, %d] handed on %v after its miner died (epoch %d ms, limit %d)",
		got.Lower, got.Upper, handedOn.Round(time.Millisecond), params.EpochMillis, params.EpochLimit)
	if got.Data != held.Data || got.Lower != held.Lower || got.Upper != held.Upper {
		t.Errorf("the new miner got %v, want the dead miner's chunk %v", got, held)
	}
	// Loss is declared EpochLimit epochs after the last heartbeat, which came at most an epoch
	// before the death: about a second.
	if limit := detect + time.Duration(params.EpochMillis)*time.Millisecond; handedOn > limit {
		t.Errorf("chunk handed on %v after the miner died, want within %v", handedOn, limit)
	}

	hash, nonce, _ := bitcoin.Scan(got.Data, got.Lower, got.Upper, nil)
	healthy.Write(wire(bitcoin.NewResult(hash, nonce)))
	select {
	case r := <-answer:
		if r.err != nil || r.hash != hash || r.nonce != nonce {
			t.Errorf("client got (%d, %d, %v), want (%d, %d)", r.hash, r.nonce, r.err, hash, nonce)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("client not answered within 30s of the result")
	}
}

// wire is m as it travels: its JSON form in one LSP payload.
func wire(m *bitcoin.Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
