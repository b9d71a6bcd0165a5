package main

import (
	"strings"
	"testing"
	"time"

	"ds440/kvstore"
)

func TestCheckKV(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	st := func(ms int64, uid string) kvstore.Stamp { return kvstore.Stamp{Time: ms, Uid: uid} }
	put := func(key, value string, server int, acked bool, s kvstore.Stamp) kvPut {
		return kvPut{Key: key, Value: value, Server: server, Invoked: t0, Acked: acked, Stamp: s}
	}
	entry := func(v string, s kvstore.Stamp) kvstore.Entry { return kvstore.Entry{Value: v, Stamp: s} }
	puts := []kvPut{
		put("k", "v1", 0, true, st(10, "s0/1")),
		put("k", "v2", 1, true, st(10, "s1/1")), // same ms, larger uid: wins
		put("k", "v3", 0, false, kvstore.Stamp{}),
		put("once/x", "x1", 2, true, st(12, "s2/1")),
	}
	good := map[string]kvstore.Entry{"k": entry("v2", st(10, "s1/1")), "once/x": entry("x1", st(12, "s2/1"))}
	for _, tc := range []struct {
		name  string
		puts  []kvPut
		reads []kvRead
		final map[string]kvstore.Entry
		rules kvRules
		err   string
	}{
		{name: "last writer wins", puts: puts, reads: []kvRead{{"k", "v3"}}, final: good},
		{name: "an unknown outcome may win", puts: puts,
			final: map[string]kvstore.Entry{"k": entry("v3", st(11, "s0/2")), "once/x": good["once/x"]}},
		{name: "the wrong rule fails", puts: puts, final: good, rules: kvRules{firstWins: true}, err: "first writer wins"},
		{name: "the older value won", puts: puts,
			final: map[string]kvstore.Entry{"k": entry("v1", st(10, "s0/1")), "once/x": good["once/x"]},
			err:   `acknowledged Put "v2" stamped {Time:10 Uid:s1/1} is lost`},
		{name: "a once-written key is gone", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			err: `key "once/x": acknowledged Put "x1"`},
		{name: "a loss after a kill is named", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Second)}}}, err: "SIGKILLed 1s after"},
		{name: "a loss after a kill may be accepted", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Second)}}, crashLossOK: true}},
		{name: "a loss after a pause and a kill may be accepted", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Minute)}}, pauses: map[int][]time.Time{2: {t0.Add(time.Second)}}, crashLossOK: true}},
		{name: "a kill long after does not explain a loss", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Minute)}}, crashLossOK: true}, err: "no SIGKILL of its server explains it"},
		{name: "a kill of another server does not explain a loss", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{1: {t0.Add(time.Millisecond)}}, crashLossOK: true}, err: "no SIGKILL"},
		{name: "a loss after kills of its server and of as many others as held it is accepted", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Minute)}, 0: {t0.Add(2 * time.Minute)}}, peerAcks: 1}},
		{name: "a loss after kills of fewer servers than held it fails", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Minute)}, 0: {t0.Add(2 * time.Minute)}}, peerAcks: 2}, err: "no SIGKILL"},
		{name: "kills of other servers alone do not explain a loss", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{0: {t0.Add(time.Minute)}, 1: {t0.Add(time.Minute)}}, peerAcks: 1}, err: "no SIGKILL"},
		{name: "kills before the Put do not explain its loss", puts: puts, final: map[string]kvstore.Entry{"k": good["k"]},
			rules: kvRules{kills: map[int][]time.Time{2: {t0.Add(time.Minute)}, 0: {t0.Add(-time.Second)}}, peerAcks: 1}, err: "no SIGKILL"},
		{name: "a value no one wrote", puts: puts,
			final: map[string]kvstore.Entry{"k": entry("zz", st(99, "s0/1")), "once/x": good["once/x"]}, err: "no client wrote"},
		{name: "a restamped value", puts: puts,
			final: map[string]kvstore.Entry{"k": entry("v2", st(11, "s1/1")), "once/x": good["once/x"]}, err: "acknowledged with stamp"},
		{name: "a read of a value no one wrote", puts: puts, reads: []kvRead{{"k", "nope"}}, final: good, err: `returned "nope"`},
	} {
		res, err := checkKV(tc.puts, tc.reads, tc.final, tc.rules)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: checkKV = %v, %v; want error %q", tc.name, res, err, tc.err)
		}
	}
}

func TestDistribution(t *testing.T) {
	t.Parallel()
	got := distribution([]time.Duration{3 * time.Second, 100 * time.Millisecond, 500 * time.Millisecond}, 2*time.Second)
	if want := "3 heals min 100ms median 500ms max 3s (1 over 2s)"; got != want {
		t.Fatalf("distribution = %q, want %q", got, want)
	}
}
