package webui

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// svgElement is one element of a parsed SVG.
type svgElement struct {
	Name  string
	Attrs map[string]string
	Text  string // character data directly inside
	Tip   string // the text of its <title> child
}

// parseSVG parses a chart as XML, failing the test if it is not.
func parseSVG(t *testing.T, doc string) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var (
		out   []svgElement
		stack []int // indexes into out of the open elements
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElement{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.Attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			closed := out[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			if closed.Name == "title" && len(stack) > 0 {
				out[stack[len(stack)-1]].Tip = closed.Text
			}
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].Text += string(tok)
			}
		}
	}
	if len(out) == 0 || out[0].Name != "svg" {
		t.Fatalf("chart is not an <svg>:\n%s", doc)
	}
	return out
}

// elementsNamed returns the elements called name (with class, if not "").
func elementsNamed(els []svgElement, name, class string) []svgElement {
	var out []svgElement
	for _, e := range els {
		if e.Name == name && (class == "" || strings.Contains(" "+e.Attrs["class"]+" ", " "+class+" ")) {
			out = append(out, e)
		}
	}
	return out
}

// numAttr reads a numeric attribute.
func numAttr(t *testing.T, e svgElement, attr string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.Attrs[attr], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", e.Name, attr, e.Attrs[attr], err)
	}
	return v
}

// checkAccessible wants the chart's title as its <title> and aria-label,
// and a <desc> that it is described by.
func checkAccessible(t *testing.T, els []svgElement, title string) {
	t.Helper()
	root := els[0]
	if root.Attrs["aria-label"] != title || root.Attrs["role"] != "img" {
		t.Errorf("aria-label %q, role %q; want %q, img", root.Attrs["aria-label"], root.Attrs["role"], title)
	}
	if !strings.HasPrefix(root.Attrs["viewBox"], "0 0 ") || root.Attrs["width"] != "" {
		t.Errorf("want a viewBox and no fixed width, got viewBox %q width %q", root.Attrs["viewBox"], root.Attrs["width"])
	}
	if ts := elementsNamed(els, "title", ""); len(ts) == 0 || ts[0].Text != title {
		t.Errorf("first <title>: got %v, want %q", ts, title)
	}
	descs := elementsNamed(els, "desc", "")
	if len(descs) != 1 || descs[0].Attrs["id"] != root.Attrs["aria-describedby"] {
		t.Errorf("want one <desc> with the id aria-describedby names (%q), got %v", root.Attrs["aria-describedby"], descs)
	}
	for _, e := range els {
		if _, ok := e.Attrs["style"]; ok {
			t.Errorf("<%s> has a style attribute, which the Content-Security-Policy refuses", e.Name)
		}
	}
}

var noValue = math.NaN()

func TestLineChart(t *testing.T) {
	c := chart{
		ID:         "mtta",
		Title:      "Time to acknowledge",
		Categories: []string{"Mar 2", "Mar 3", "Mar 4", "Mar 5", "Mar 6"},
		Unit:       durationUnit(3600),
		Series: []chartSeries{
			{Name: "P0", Class: "s0", Values: []float64{300, 450, noValue, 600, 900}},
			{Name: "P1", Class: "s1", Values: []float64{noValue, noValue, 3600, noValue, noValue}},
		},
	}
	els := parseSVG(t, string(c.lineChart()))
	checkAccessible(t, els, "Time to acknowledge")
	// A dot per value; P0's line breaks at its gap, P1's single value is
	// a dot with no line through it.
	if got := len(elementsNamed(els, "circle", "s0")); got != 4 {
		t.Errorf("P0: got %d dots, want 4", got)
	}
	if got := len(elementsNamed(els, "circle", "s1")); got != 1 {
		t.Errorf("P1: got %d dots, want 1", got)
	}
	paths := elementsNamed(els, "path", "line")
	if len(paths) != 1 || paths[0].Attrs["class"] != "line s0" {
		t.Fatalf("got lines %v, want P0's only", paths)
	}
	if d := paths[0].Attrs["d"]; strings.Count(d, "M") != 2 || strings.Count(d, "L") != 2 {
		t.Errorf("P0's line %q: want two pieces, M…L… M…L…", d)
	}
	// The largest value is an hour: the axis reads in minutes, 0 to 60.
	var ticks []string
	for _, e := range elementsNamed(els, "text", "") {
		if strings.HasSuffix(e.Text, " min") {
			ticks = append(ticks, e.Text)
		}
	}
	if want := []string{"0 min", "20 min", "40 min", "60 min"}; !reflect.DeepEqual(ticks, want) {
		t.Errorf("y ticks: got %q, want %q", ticks, want)
	}
	if got := elementsNamed(els, "circle", "s1")[0].Tip; got != "Mar 4 · P1: 1h" {
		t.Errorf("P1's dot says %q, want %q", got, "Mar 4 · P1: 1h")
	}
	desc := elementsNamed(els, "desc", "")[0].Text
	if want := "P0: Mar 2 5m, Mar 3 7m, Mar 4 no value, Mar 5 10m, Mar 6 15m."; !strings.Contains(desc, want) {
		t.Errorf("desc %q lacks %q", desc, want)
	}
}

func TestStackedBars(t *testing.T) {
	c := chart{
		ID:         "volume",
		Title:      "Alerts per day",
		Categories: []string{"Mar 2", "Mar 3", "Mar 4"},
		Unit:       countUnit,
		Series: []chartSeries{
			{Name: "P0", Class: "s0", Values: []float64{2, 0, 1}},
			{Name: "P1", Class: "s1", Values: []float64{3, 0, 0}},
		},
	}
	els := parseSVG(t, string(c.stackedBars()))
	checkAccessible(t, els, "Alerts per day")
	bars := elementsNamed(els, "rect", "bar")
	if len(bars) != 3 { // zeros draw nothing
		t.Fatalf("got %d bar segments, want 3", len(bars))
	}
	// Mar 2's P1 segment sits on its P0 segment.
	p0, p1 := bars[0], bars[1]
	if p0.Attrs["x"] != p1.Attrs["x"] || numAttr(t, p1, "y") >= numAttr(t, p0, "y") {
		t.Errorf("Mar 2: P0 at x=%s y=%s, P1 at x=%s y=%s; want P1 stacked on P0", p0.Attrs["x"], p0.Attrs["y"], p1.Attrs["x"], p1.Attrs["y"])
	}
	// A legend for the two series.
	if got := len(elementsNamed(els, "rect", "s0")) + len(elementsNamed(els, "rect", "s1")) - len(bars); got != 2 {
		t.Errorf("got %d legend keys, want 2", got)
	}
	// Five alerts on the tallest day: ticks of two up to six.
	var ticks []string
	for _, e := range elementsNamed(els, "text", "") {
		if e.Attrs["text-anchor"] == "end" {
			ticks = append(ticks, e.Text)
		}
	}
	if want := []string{"0", "2", "4", "6"}; !reflect.DeepEqual(ticks, want) {
		t.Errorf("y ticks: got %q, want %q", ticks, want)
	}
}

func TestHorizontalBars(t *testing.T) {
	c := chart{
		ID:         "load",
		Title:      "Pages per person",
		Categories: []string{"alice", "<script>alert(1)</script>"},
		Unit:       countUnit,
		Series: []chartSeries{
			{Name: "Day", Class: "daytime", Values: []float64{3, 1}},
			{Name: "At night", Class: "night", Values: []float64{2, 0}},
		},
	}
	doc := string(c.horizontalBars())
	els := parseSVG(t, doc)
	checkAccessible(t, els, "Pages per person")
	if got := len(elementsNamed(els, "rect", "bar")); got != 3 {
		t.Errorf("got %d bar segments, want 3 (alice day and night, the other's day)", got)
	}
	if got := len(elementsNamed(els, "rect", "night")); got != 2 { // alice's segment and the legend's key
		t.Errorf("got %d night rects, want 2", got)
	}
	if strings.Contains(doc, "<script") {
		t.Errorf("a label is not escaped:\n%s", doc)
	}
	found := false
	for _, e := range elementsNamed(els, "text", "") {
		found = found || e.Text == "<script>alert(1)</script>"
	}
	if !found {
		t.Errorf("the escaped label does not read back as the name:\n%s", doc)
	}
	var totals []string
	for _, e := range elementsNamed(els, "text", "value") {
		totals = append(totals, e.Text)
	}
	if want := []string{"5", "1"}; !reflect.DeepEqual(totals, want) {
		t.Errorf("totals: got %q, want %q", totals, want)
	}
}

func TestChartNoData(t *testing.T) {
	empty := chart{ID: "e", Title: "Nothing", Categories: []string{"Mar 2", "Mar 3"}, Unit: countUnit,
		Series: []chartSeries{{Name: "P0", Class: "s0", Values: []float64{0, noValue}}}}
	for name, draw := range map[string]func() string{
		"line":       func() string { return string(empty.lineChart()) },
		"stacked":    func() string { return string(empty.stackedBars()) },
		"horizontal": func() string { return string(empty.horizontalBars()) },
		"no series":  func() string { return string(chart{ID: "n", Title: "Nothing", Unit: countUnit}.horizontalBars()) },
	} {
		t.Run(name, func(t *testing.T) {
			els := parseSVG(t, draw())
			checkAccessible(t, els, "Nothing")
			notes := elementsNamed(els, "text", "empty")
			if len(notes) != 1 || notes[0].Text != "No data" {
				t.Errorf("want one No data note, got %v", notes)
			}
			if n := len(elementsNamed(els, "rect", "")) + len(elementsNamed(els, "circle", "")) + len(elementsNamed(els, "path", "")); n != 0 {
				t.Errorf("got %d shapes, want none", n)
			}
		})
	}
}

func TestTitlesAreEscaped(t *testing.T) {
	c := chart{ID: `x"><script>`, Title: `Noise of <script>alert(1)</script> & "co"`, Categories: []string{"<b>"}, Unit: countUnit,
		Series: []chartSeries{{Name: "<i>", Class: `s0"><script>`, Values: []float64{1}}}}
	doc := string(c.stackedBars())
	if strings.Contains(doc, "<script") || strings.Contains(doc, "<b>") || strings.Contains(doc, "<i>") {
		t.Fatalf("markup got through:\n%s", doc)
	}
	els := parseSVG(t, doc)
	checkAccessible(t, els, `Noise of <script>alert(1)</script> & "co"`)
	if bar := elementsNamed(els, "rect", "bar")[0]; bar.Tip != "<b> · <i>: 1" {
		t.Errorf("bar title reads %q", bar.Tip)
	}
}

func TestNiceScale(t *testing.T) {
	tests := []struct {
		most            float64
		whole           bool
		wantStep, wantT float64
	}{
		{0, true, 1, 1},
		{3, true, 1, 3},
		{5, true, 2, 6},
		{7, false, 2, 8},
		{100, true, 50, 100}, // exactly on a step: no empty step above
		{101, true, 50, 150},
		{0.3, false, 0.1, 0.3},
		{0.3, true, 1, 1},
		{2.5, false, 1, 3},
		{1234, true, 500, 1500},
	}
	for _, tt := range tests {
		step, top := niceScale(tt.most, 4, tt.whole)
		if math.Abs(step-tt.wantStep) > 1e-9 || math.Abs(top-tt.wantT) > 1e-9 {
			t.Errorf("niceScale(%v, whole %v): got step %v top %v, want %v %v", tt.most, tt.whole, step, top, tt.wantStep, tt.wantT)
		}
	}
}

func TestDurationUnit(t *testing.T) {
	tests := []struct {
		most float64
		want string
	}{
		{90, "min"},
		{3 * 3600, "h"},
		{3 * 86400, "d"},
	}
	for _, tt := range tests {
		if got := durationUnit(tt.most).Suffix; got != tt.want {
			t.Errorf("durationUnit(%vs): got %q, want %q", tt.most, got, tt.want)
		}
	}
}
