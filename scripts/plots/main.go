// Command plots draws the SVG line charts of docs/PERFORMANCE.md from their data files.
//
// Each docs/plots/NAME.tsv becomes docs/plots/NAME.svg. A data file is tab-separated: lines
// starting with '#' are directives or comments, the first other line names the columns (the x
// axis, then one column per series), and every further line is one x value and its y values
// (an empty cell is a missing point). Directives:
//
//	# title: kvserver beside Redis
//	# x: clients
//	# y: requests/s
//	# logx            (a logarithmic x axis, for 1, 10, 100, ... sweeps)
//	# command: ...    (how the figures were measured; shown under the chart)
//
// Usage: go run ./scripts/plots [-dir docs/plots]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	dir := flag.String("dir", "docs/plots", "folder of .tsv data files; each gets an .svg beside it")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: plots [-dir DIR]\n\nDraws DIR/NAME.svg from every DIR/NAME.tsv.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.tsv"))
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no .tsv files in %s", *dir)
	}
	for _, f := range files {
		if err != nil {
			break
		}
		err = render(f, strings.TrimSuffix(f, ".tsv")+".svg")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "plots:", err)
		os.Exit(1)
	}
}

// chart is one data file.
type chart struct {
	title, xLabel, yLabel, command string
	logX                           bool
	series                         []string    // column names after x
	xs                             []float64   // one per row
	ys                             [][]float64 // ys[row][series]; NaN = missing
}

func render(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	c, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var b strings.Builder
	c.svg(&b)
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func parse(r io.Reader) (*chart, error) {
	c := &chart{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \r")
		if text == "" {
			continue
		}
		if d, ok := strings.CutPrefix(text, "#"); ok {
			key, val, _ := strings.Cut(strings.TrimSpace(d), ":")
			val = strings.TrimSpace(val)
			switch strings.TrimSpace(key) {
			case "title":
				c.title = val
			case "x":
				c.xLabel = val
			case "y":
				c.yLabel = val
			case "command":
				c.command = val
			case "logx":
				c.logX = true
			}
			continue
		}
		cells := strings.Split(text, "\t")
		if c.series == nil {
			if len(cells) < 2 {
				return nil, fmt.Errorf("line %d: the header needs an x column and at least one series", line)
			}
			c.series = cells[1:]
			continue
		}
		if len(cells) > len(c.series)+1 {
			return nil, fmt.Errorf("line %d: %d cells, header has %d", line, len(cells), len(c.series)+1)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(cells[0]), 64)
		if err != nil || (c.logX && x <= 0) {
			return nil, fmt.Errorf("line %d: bad x value %q", line, cells[0])
		}
		row := make([]float64, len(c.series))
		for i := range row {
			row[i] = math.NaN()
			if i+1 < len(cells) && strings.TrimSpace(cells[i+1]) != "" {
				if row[i], err = strconv.ParseFloat(strings.TrimSpace(cells[i+1]), 64); err != nil {
					return nil, fmt.Errorf("line %d: bad value %q", line, cells[i+1])
				}
			}
		}
		c.xs = append(c.xs, x)
		c.ys = append(c.ys, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(c.xs) == 0 {
		return nil, fmt.Errorf("no data rows")
	}
	return c, nil
}

// Layout of every chart, in SVG user units.
const (
	width, height            = 780, 420
	left, right, top, bottom = 90, 230, 40, 70
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

func (c *chart) svg(w io.Writer) {
	xMin, xMax := c.xs[0], c.xs[0]
	yMax := 0.0
	for i, x := range c.xs {
		xMin, xMax = math.Min(xMin, x), math.Max(xMax, x)
		for _, y := range c.ys[i] {
			if !math.IsNaN(y) {
				yMax = math.Max(yMax, y)
			}
		}
	}
	if yMax == 0 {
		yMax = 1
	}
	yTop, yStep := niceScale(yMax)
	tx := func(x float64) float64 {
		lo, hi, v := xMin, xMax, x
		if c.logX {
			lo, hi, v = math.Log10(lo), math.Log10(hi), math.Log10(v)
		}
		if hi == lo {
			return left + float64(width-left-right)/2
		}
		return left + (v-lo)/(hi-lo)*float64(width-left-right)
	}
	ty := func(y float64) float64 { return float64(height-bottom) - y/yTop*float64(height-top-bottom) }

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(w, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(c.title))
	for y := 0.0; y <= yTop+yStep/2; y += yStep {
		fmt.Fprintf(w, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, ty(y), ty(y))
		fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, ty(y)+4, human(y))
	}
	for _, x := range c.xs {
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", tx(x), height-bottom+18, human(x))
	}
	fmt.Fprintf(w, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", left, width-right, height-bottom, height-bottom)
	fmt.Fprintf(w, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", left, left, top, height-bottom)
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (left+width-right)/2, height-bottom+38, html.EscapeString(c.xLabel))
	fmt.Fprintf(w, `<text transform="translate(20 %d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+height-bottom)/2, html.EscapeString(c.yLabel))
	if c.command != "" {
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="10" fill="#555">%s</text>`+"\n", left, height-12, html.EscapeString(c.command))
	}
	for s, name := range c.series {
		color := palette[s%len(palette)]
		var path strings.Builder
		pen := "M"
		for i, x := range c.xs {
			y := c.ys[i][s]
			if math.IsNaN(y) {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, tx(x), ty(y))
			pen = "L"
			fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", tx(x), ty(y), color)
		}
		fmt.Fprintf(w, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.TrimSpace(path.String()), color)
		ly := top + 10 + 20*s
		fmt.Fprintf(w, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", width-right+15, width-right+35, ly, ly, color)
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", width-right+40, ly+4, html.EscapeString(name))
	}
	fmt.Fprintln(w, "</svg>")
}

// niceScale returns an axis top at or above max and a step of 1, 2 or 5 times a power of ten
// giving four to ten grid lines.
func niceScale(max float64) (top, step float64) {
	mag := math.Pow(10, math.Floor(math.Log10(max)))
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5} {
		step = m * mag
		if max/step <= 8 {
			break
		}
	}
	return math.Ceil(max/step) * step, step
}

// human prints 1500 as 1.5k and 2000000 as 2M.
func human(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}
