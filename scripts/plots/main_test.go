package main

import (
	"math"
	"strings"
	"testing"
)

func TestParseAndDraw(t *testing.T) {
	t.Parallel()
	in := "# title: a & b\n# x: clients\n# y: req/s\n# logx\nclients\tours\tpeer\n1\t10\t20\n10\t\t200\n100\t1000\t2000\n"
	c, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.title != "a & b" || !c.logX || len(c.series) != 2 || len(c.xs) != 3 {
		t.Fatalf("parsed %+v", c)
	}
	if !math.IsNaN(c.ys[1][0]) {
		t.Fatalf("empty cell = %v, want a missing point", c.ys[1][0])
	}
	var b strings.Builder
	c.svg(&b)
	out := b.String()
	if !strings.Contains(out, "a &amp; b") || strings.Count(out, "<path") != 2 || strings.Count(out, "<circle") != 5 {
		t.Fatalf("svg:\n%s", out)
	}
	// The missing point splits the first series into two pieces.
	if !strings.Contains(out, `d="M90.0`) || strings.Count(out, " M") != 1 {
		t.Fatalf("first series should restart its line after the gap:\n%s", out)
	}
}

func TestParseRejectsBadData(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"x\n1\n",
		"x\ty\nabc\t1\n",
		"x\ty\n1\tnope\n",
		"x\ty\n1\t2\t3\n",
		"# logx\nx\ty\n0\t1\n",
	} {
		if _, err := parse(strings.NewReader(in)); err == nil {
			t.Errorf("parse(%q) accepted bad data", in)
		}
	}
}

func TestNiceScale(t *testing.T) {
	t.Parallel()
	for _, max := range []float64{0.7, 3, 95, 713657, 1.2e6} {
		top, step := niceScale(max)
		if top < max || top/step > 8.0001 || top/step < 2 {
			t.Errorf("niceScale(%v) = %v, %v", max, top, step)
		}
	}
}
