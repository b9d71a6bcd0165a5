package main

import (
	"strings"
	"testing"
)

func TestCheckAppends(t *testing.T) {
	t.Parallel()
	list := func(vals ...string) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = v
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		acked [][]int
		lists [][]any
		err   string
	}{
		{"all there, plus an unacknowledged one", [][]int{{0, 1, 3}}, [][]any{list("0", "1", "2", "3")}, ""},
		{"lost", [][]int{{0, 1, 2}}, [][]any{list("0", "2")}, "1 of 3 acknowledged writes lost (first: client 0: acknowledged value 1 is gone)"},
		{"reordered", [][]int{{0, 1}}, [][]any{list("1", "0")}, "out of order"},
		{"twice", [][]int{{0, 1}}, [][]any{list("0", "1", "1")}, "repeats a value"},
		{"garbage", [][]int{{0}}, [][]any{list("0", "x")}, `holds "x"`},
	} {
		n, err := checkAppends(tc.acked, tc.lists)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: checkAppends = %d, %v; want error %q", tc.name, n, err, tc.err)
		}
	}
}
