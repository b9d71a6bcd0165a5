package linearize

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
)

// maxShownPrefix bounds how much of the linearized prefix the timeline draws: its tail is what
// leads into the violation, and a timeline of thousands of operations is unreadable.
const maxShownPrefix = 40

// WriteHTML writes a self-contained HTML page (inline SVG, no scripts or external files) with
// a timeline of the counterexample: one row per client, the tail of the longest linearizable
// prefix in green, numbered in linearization order, and the operations that cannot be placed
// after it in red. Unknown operations run to the right edge with a dashed outline.
func (c *Counterexample) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	c.writeHTML(bw)
	return bw.Flush()
}

func (c *Counterexample) writeHTML(w *bufio.Writer) {
	m := c.model
	order := map[int]int{} // op index -> position in the linearization (1-based)
	for i, id := range c.Linearized {
		order[id] = i + 1
	}
	from := max(0, len(c.Linearized)-maxShownPrefix)
	shown := slices.Clone(c.Linearized[from:])
	for _, id := range c.Stuck {
		if _, ok := order[id]; !ok {
			shown = append(shown, id)
		}
	}
	stateBefore := m.Init()
	if from > 0 {
		stateBefore = c.States[from-1]
	}

	// Times are compressed to ranks so that short operations stay visible.
	var times []int64
	clients := map[int]int{}
	var clientIDs []int
	for _, id := range shown {
		op := c.Partition[id]
		times = append(times, int64(op.Call))
		if !op.Unknown {
			times = append(times, int64(op.Return))
		}
		if _, ok := clients[op.ClientID]; !ok {
			clients[op.ClientID] = 0
			clientIDs = append(clientIDs, op.ClientID)
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	slices.Sort(clientIDs)
	for i, id := range clientIDs {
		clients[id] = i
	}
	const (
		left, colW, rowH, top = 90, 46, 34, 30
	)
	width := left + colW*(len(times)+2)
	height := top + rowH*len(clientIDs) + 20
	x := func(t int64, unknown bool) int {
		if unknown {
			return left + colW*(len(times)+1)
		}
		i, _ := slices.BinarySearch(times, t)
		return left + colW*i + colW/2
	}

	fmt.Fprint(w, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>linearizability violation</title>
<style>
body{font-family:sans-serif;margin:1.5em}
svg text{font-size:11px;font-family:monospace}
.lin{fill:#cdeccd;stroke:#2a7a2a}
.stuck{fill:#f6c6c6;stroke:#b22222;stroke-width:2}
.unknown{stroke-dasharray:4 3}
table{border-collapse:collapse;font-family:monospace;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
tr.stuck td{background:#f6c6c6}
</style></head><body>
<h1>Not linearizable</h1>
`)
	fmt.Fprintf(w, "<p>The partition has %d operations. The longest linearizable prefix the search found has %d; after it, none of the %d operations in red can take effect next, yet the last of them had returned. ",
		len(c.Partition), len(c.Linearized), len(c.Stuck))
	if from > 0 {
		fmt.Fprintf(w, "Only the last %d of the prefix are drawn; the state before them is %s.", len(c.Linearized)-from, esc(m.describeState(stateBefore)))
	}
	fmt.Fprint(w, "</p>\n")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">`+"\n", width, height)
	for i, id := range clientIDs {
		y := top + rowH*i
		fmt.Fprintf(w, `<text x="4" y="%d">client %d</text><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#eee"/>`+"\n",
			y+rowH/2, id, left, y+rowH-2, width, y+rowH-2)
	}
	for _, id := range shown {
		op := c.Partition[id]
		y := top + rowH*clients[op.ClientID]
		x0, x1 := x(int64(op.Call), false)-colW/2+3, x(int64(op.Return), op.Unknown)+colW/2-3
		class := "stuck"
		label := m.describeOp(op.Input, outputOf(op))
		tip := label
		if n, ok := order[id]; ok {
			class = "lin"
			label = "#" + strconv.Itoa(n) + " " + label
			tip = label + "\nstate after: " + m.describeState(c.States[n-1])
		} else {
			tip += "\ncannot be placed after the prefix"
		}
		if op.Unknown {
			class += " unknown"
		}
		tip += fmt.Sprintf("\ncall %v, return %s", op.Call, returnOf(op))
		fmt.Fprintf(w, `<g><title>%s</title><rect class="%s" x="%d" y="%d" width="%d" height="%d" rx="3"/>`,
			esc(tip), class, x0, y+4, max(x1-x0, 6), rowH-10)
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text></g>`+"\n", x0+3, y+rowH/2+2, esc(clip(label, (x1-x0)/7)))
	}
	fmt.Fprint(w, "</svg>\n<h2>Linearization order</h2>\n<table><tr><th>#</th><th>client</th><th>operation</th><th>call</th><th>return</th><th>state after</th></tr>\n")
	if from > 0 {
		fmt.Fprintf(w, "<tr><td>…</td><td></td><td>%d earlier operations</td><td></td><td></td><td>%s</td></tr>\n", from, esc(m.describeState(stateBefore)))
	}
	for i := from; i < len(c.Linearized); i++ {
		op := c.Partition[c.Linearized[i]]
		fmt.Fprintf(w, "<tr><td>%d</td><td>%d</td><td>%s</td><td>%v</td><td>%s</td><td>%s</td></tr>\n",
			i+1, op.ClientID, esc(m.describeOp(op.Input, outputOf(op))), op.Call, returnOf(op), esc(m.describeState(c.States[i])))
	}
	for _, id := range c.Stuck {
		op := c.Partition[id]
		fmt.Fprintf(w, "<tr class=\"stuck\"><td>✗</td><td>%d</td><td>%s</td><td>%v</td><td>%s</td><td>cannot be placed</td></tr>\n",
			op.ClientID, esc(m.describeOp(op.Input, outputOf(op))), op.Call, returnOf(op))
	}
	fmt.Fprint(w, "</table>\n</body></html>\n")
}

func outputOf(op Operation) any {
	if op.Unknown {
		return UnknownOutput{}
	}
	return op.Output
}

func returnOf(op Operation) string {
	if op.Unknown {
		return "unknown"
	}
	return op.Return.String()
}

func esc(s string) string { return html.EscapeString(s) }

func clip(s string, n int) string {
	r := []rune(s)
	if n < 2 {
		n = 2
	}
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// String summarizes the counterexample in one line per operation of its tail.
func (c *Counterexample) String() string {
	m := c.model
	var b []byte
	b = fmt.Appendf(b, "%d of %d operations linearized; then none of these can be placed:\n", len(c.Linearized), len(c.Partition))
	for _, id := range c.Stuck {
		op := c.Partition[id]
		b = fmt.Appendf(b, "  client %d: %s [%v, %s]\n", op.ClientID, m.describeOp(op.Input, outputOf(op)), op.Call, returnOf(op))
	}
	if n := len(c.States); n > 0 {
		b = fmt.Appendf(b, "state after the prefix: %s\n", m.describeState(c.States[n-1]))
	} else {
		b = fmt.Appendf(b, "state after the prefix: %s\n", m.describeState(m.Init()))
	}
	return string(b)
}
