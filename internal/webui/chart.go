package webui

import (
	"bytes"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Charts are inline SVG drawn on the server: no script, no library, and
// nothing the Content-Security-Policy has to allow. Colours come from CSS
// classes of static/app.css (.chart .s0–.s3 for severities and the ones in
// the Insights block), so both themes apply. Every chart is an image with
// a title and an aria-label, and its numbers are spelled out in a <desc>.

// chartSeries is one line, or one kind of bar segment, of a chart.
type chartSeries struct {
	Name  string
	Class string // a class of .chart in static/app.css
	// Values has one value per category; NaN is no value (a gap in a
	// line).
	Values []float64
}

// chartUnit says how a chart's values read.
type chartUnit struct {
	Suffix string  // after a tick's number: "min", "h"; "" for counts
	Scale  float64 // values per shown unit: 60 for minutes of seconds
	// Whole is true for counts: ticks fall on whole numbers.
	Whole bool
	// Show writes a value for people (tooltips and <desc>).
	Show func(v float64) string
}

// countUnit is the unit of alerts and pages.
var countUnit = chartUnit{Scale: 1, Whole: true, Show: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }}

// durationUnit reads values in seconds, shown in minutes, hours or days
// depending on the largest.
func durationUnit(maxSeconds float64) chartUnit {
	u := chartUnit{Show: func(v float64) string { return shortDuration(time.Duration(v) * time.Second) }}
	switch {
	case maxSeconds < 2*3600:
		u.Suffix, u.Scale = "min", 60
	case maxSeconds < 2*86400:
		u.Suffix, u.Scale = "h", 3600
	default:
		u.Suffix, u.Scale = "d", 86400
	}
	return u
}

// chart is what a chart shows: one value per category for each series.
type chart struct {
	ID         string // unique on the page
	Title      string
	Categories []string
	Unit       chartUnit
	Series     []chartSeries
}

// Sizes in viewBox units: a box that reads well at a phone's width and
// half a desktop's. Rows of horizontal bars are narrower, so their names
// show larger.
const (
	chartWidth   = 400
	rowsWidth    = 330
	chartHeight  = 200
	marginLeft   = 44
	marginRight  = 12
	marginBottom = 24
	marginTop    = 10
	legendHeight = 18
	rowHeight    = 36  // a horizontal bar with its label above
	maxLabel     = 48  // characters of a row label, before "…"
	charWidth    = 6.5 // of the 11-unit text, about
	maxXLabels   = 5
	yTicks       = 4
)

// svgChart is the geometry the template draws.
type svgChart struct {
	ID, Title, Desc string
	Width, Height   float64
	Empty           bool
	Note            svgTick // where "No data" goes when Empty
	// The grid's lines run from PlotLeft to PlotRight.
	PlotLeft, PlotRight float64
	Grid                []svgTick
	XTicks              []svgTick
	Legend              []svgLegend
	Rects               []svgRect
	Paths               []svgPath
	Dots                []svgDot
	Labels              []svgLabel
}

type svgTick struct {
	X, Y  float64
	Label string
}

type svgLegend struct {
	X, TextX float64
	Class    string
	Name     string
}

type svgRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type svgPath struct{ D, Class string }

type svgDot struct {
	X, Y  float64
	Class string
	Title string
}

type svgLabel struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
}

var svgTemplate = template.Must(template.New("svg").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}" aria-describedby="{{.ID}}-desc">
<title>{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{- if .Empty}}
<text class="empty" x="{{.Note.X}}" y="{{.Note.Y}}" text-anchor="middle">No data</text>
{{- end}}
{{- range .Grid}}
<line class="grid" x1="{{$.PlotLeft}}" x2="{{$.PlotRight}}" y1="{{.Y}}" y2="{{.Y}}"/><text x="{{.X}}" y="{{.Y}}" text-anchor="end" dominant-baseline="middle">{{.Label}}</text>
{{- end}}
{{- range .XTicks}}
<text x="{{.X}}" y="{{.Y}}" text-anchor="middle">{{.Label}}</text>
{{- end}}
{{- range .Legend}}
<rect class="{{.Class}}" x="{{.X}}" y="2" width="10" height="10"/><text x="{{.TextX}}" y="11">{{.Name}}</text>
{{- end}}
{{- range .Rects}}
<rect class="bar {{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Title}}</title></rect>
{{- end}}
{{- range .Paths}}
<path class="line {{.Class}}" d="{{.D}}"/>
{{- end}}
{{- range .Dots}}
<circle class="dot {{.Class}}" cx="{{.X}}" cy="{{.Y}}" r="3"><title>{{.Title}}</title></circle>
{{- end}}
{{- range .Labels}}
<text{{with .Class}} class="{{.}}"{{end}} x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{- end}}
</svg>`))

// draw renders g. The template is fixed and writes to memory, so it
// cannot fail but by a bug in this file, which the tests would show.
func (g *svgChart) draw() template.HTML {
	var b bytes.Buffer
	if err := svgTemplate.Execute(&b, g); err != nil {
		panic("chart template: " + err.Error())
	}
	return template.HTML(b.String())
}

// lineChart draws a line per series across the categories; a missing
// value breaks the line, and every value has a dot (so a value between
// two gaps shows too).
func (c chart) lineChart() template.HTML {
	g, top, ok := c.frame(false)
	if !ok {
		return g.draw()
	}
	n := len(c.Categories)
	for _, s := range c.Series {
		var d strings.Builder
		var piece []string // points of the current piece of line
		flush := func() {
			if len(piece) > 1 {
				d.WriteString("M" + strings.Join(piece, "L"))
			}
			piece = piece[:0]
		}
		for i, v := range s.Values {
			if math.IsNaN(v) {
				flush()
				continue
			}
			x, y := c.slotCenter(i, n), c.y(g, v, top)
			piece = append(piece, coord(x)+" "+coord(y))
			g.Dots = append(g.Dots, svgDot{X: x, Y: y, Class: s.Class, Title: c.point(i, s.Name, v)})
		}
		flush()
		if d.Len() > 0 {
			g.Paths = append(g.Paths, svgPath{D: d.String(), Class: s.Class})
		}
	}
	return g.draw()
}

// stackedBars draws a bar per category, the series stacked bottom up.
func (c chart) stackedBars() template.HTML {
	g, top, ok := c.frame(true)
	if !ok {
		return g.draw()
	}
	n := len(c.Categories)
	slot := (chartWidth - marginLeft - marginRight) / float64(n)
	width := roundTenth(max(slot*0.7, 0.5))
	for i := range c.Categories {
		base := 0.0
		for _, s := range c.Series {
			v := s.Values[i]
			if !(v > 0) {
				continue
			}
			y0, y1 := c.y(g, base, top), c.y(g, base+v, top)
			g.Rects = append(g.Rects, svgRect{X: roundTenth(c.slotCenter(i, n) - width/2), Y: y1, W: width, H: roundTenth(y0 - y1), Class: s.Class, Title: c.point(i, s.Name, v)})
			base += v
		}
	}
	return g.draw()
}

// horizontalBars draws a row per category, its name above a bar of the
// series laid end to end, and the total after it.
func (c chart) horizontalBars() template.HTML {
	g := c.base()
	if g.Empty {
		return g.draw()
	}
	totals := c.totals()
	most := 0.0
	for _, t := range totals {
		most = max(most, t)
	}
	room := rowsWidth - marginRight - 40.0 // 40: the total after the longest bar
	g.Width, g.Height = rowsWidth, g.top()+float64(len(c.Categories))*rowHeight
	for i, name := range c.Categories {
		y := g.top() + float64(i)*rowHeight
		g.Labels = append(g.Labels,
			svgLabel{X: 0, Y: roundTenth(y + 12), Anchor: "start", Text: shortenLabel(name)},
			svgLabel{X: roundTenth(room*totals[i]/most + 4), Y: roundTenth(y + 27), Anchor: "start", Class: "value", Text: c.Unit.Show(totals[i])})
		x := 0.0
		for _, s := range c.Series {
			v := s.Values[i]
			if !(v > 0) {
				continue
			}
			w := room * v / most
			g.Rects = append(g.Rects, svgRect{X: roundTenth(x), Y: roundTenth(y + 16), W: roundTenth(w), H: 14, Class: s.Class, Title: c.point(i, s.Name, v)})
			x += w
		}
	}
	return g.draw()
}

// base starts a chart: its title, legend and <desc>, or the "No data"
// note when no value is above zero.
func (c chart) base() *svgChart {
	g := &svgChart{ID: c.ID, Title: c.Title, Width: chartWidth, Height: chartHeight, Desc: c.describe()}
	g.Empty = true
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v > 0 {
				g.Empty = false
			}
		}
	}
	if g.Empty {
		g.Height = 60
		g.Note = svgTick{X: chartWidth / 2, Y: 34}
		return g
	}
	if len(c.Series) > 0 { // even one: it says which severity a line is
		x := 0.0
		for _, s := range c.Series {
			g.Legend = append(g.Legend, svgLegend{X: x, TextX: x + 14, Class: s.Class, Name: s.Name})
			x += 14 + charWidth*float64(utf8.RuneCountInString(s.Name)) + 12
		}
	}
	return g
}

// top is where the plot starts, below the legend if there is one.
func (g *svgChart) top() float64 {
	if len(g.Legend) > 0 {
		return marginTop + legendHeight
	}
	return marginTop
}

// frame draws the axes of a chart over the categories: the y grid with
// round ticks up to top (in values), and a few category names below.
// stacked: the top covers each category's sum rather than its largest
// value. ok is false when there is nothing to draw.
func (c chart) frame(stacked bool) (g *svgChart, top float64, ok bool) {
	g = c.base()
	if g.Empty {
		return g, 0, false
	}
	most := 0.0
	if stacked {
		for _, t := range c.totals() {
			most = max(most, t)
		}
	} else {
		for _, s := range c.Series {
			for _, v := range s.Values {
				if v > most {
					most = v
				}
			}
		}
	}
	g.PlotLeft, g.PlotRight = marginLeft, chartWidth-marginRight
	step, shownTop := niceScale(most/c.Unit.Scale, yTicks, c.Unit.Whole)
	top = shownTop * c.Unit.Scale
	for k := 0.0; k*step <= shownTop+step/2; k++ {
		v := math.Round(k*step*1e6) / 1e6 // 0.3, not 0.30000000000000004
		text := strconv.FormatFloat(v, 'f', -1, 64)
		if c.Unit.Suffix != "" {
			text += " " + c.Unit.Suffix
		}
		g.Grid = append(g.Grid, svgTick{X: marginLeft - 4, Y: c.y(g, v*c.Unit.Scale, top), Label: text})
	}
	n := len(c.Categories)
	every := (n + maxXLabels - 1) / maxXLabels
	for i := 0; i < n; i += every {
		g.XTicks = append(g.XTicks, svgTick{X: c.slotCenter(i, n), Y: chartHeight - 6, Label: c.Categories[i]})
	}
	return g, top, true
}

// y is where value v sits on the vertical axis running up to top.
func (c chart) y(g *svgChart, v, top float64) float64 {
	bottom := float64(chartHeight - marginBottom)
	return roundTenth(bottom - (bottom-g.top())*v/top)
}

// slotCenter is the middle of category i of n across the plot.
func (c chart) slotCenter(i, n int) float64 {
	slot := (chartWidth - marginLeft - marginRight) / float64(n)
	return roundTenth(marginLeft + slot*(float64(i)+0.5))
}

// totals sums the series per category.
func (c chart) totals() []float64 {
	t := make([]float64, len(c.Categories))
	for _, s := range c.Series {
		for i, v := range s.Values {
			if v > 0 {
				t[i] += v
			}
		}
	}
	return t
}

// point names one value: "Mar 2 · P0: 12m".
func (c chart) point(i int, name string, v float64) string {
	return c.Categories[i] + " · " + name + ": " + c.Unit.Show(v)
}

// describe spells out every value, for screen readers: the series, then
// each category's value ("no value" where a line has a gap).
func (c chart) describe() string {
	var b strings.Builder
	for i, s := range c.Series {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(s.Name + ":")
		for j, v := range s.Values {
			if j > 0 {
				b.WriteString(",")
			}
			shown := "no value"
			if !math.IsNaN(v) {
				shown = c.Unit.Show(v)
			}
			b.WriteString(" " + c.Categories[j] + " " + shown)
		}
		b.WriteString(".")
	}
	return b.String()
}

// niceScale picks a tick step of 1, 2 or 5 times a power of ten giving
// about ticks steps up to most, and the first step at or above most.
func niceScale(most float64, ticks int, whole bool) (step, top float64) {
	if most <= 0 {
		return 1, 1
	}
	raw := most / float64(ticks)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, f := range []float64{1, 2, 5} {
		if f*mag >= raw {
			step = f * mag
			break
		}
	}
	if whole {
		step = max(step, 1)
	}
	return step, math.Ceil(most/step-1e-9) * step
}

// shortenLabel cuts a row label to maxLabel characters.
func shortenLabel(s string) string {
	if utf8.RuneCountInString(s) <= maxLabel {
		return s
	}
	return string([]rune(s)[:maxLabel-1]) + "…"
}

// roundTenth keeps a tenth of a unit: enough for any screen, and short markup.
func roundTenth(v float64) float64 { return math.Round(v*10) / 10 }

func coord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
