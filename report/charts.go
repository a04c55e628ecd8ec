package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart names one of the report's charts.
type Chart string

// The charts, in the order a report shows them.
const (
	ChartRunsPerDay = Chart("runs-per-day")      // runs per day, stacked by status
	ChartDurations  = Chart("durations")         // histogram of run durations
	ChartActivities = Chart("activities")        // total time per activity type
	ChartNodeFails  = Chart("failures-by-node")  // failed steps per node
	ChartSpeed      = Chart("tokens-per-second") // generation speed over time, by model
)

// Charts lists every chart in report order.
var Charts = []Chart{ChartRunsPerDay, ChartDurations, ChartActivities, ChartNodeFails, ChartSpeed}

// Title is the chart's heading.
func (c Chart) Title() string {
	switch c {
	case ChartRunsPerDay:
		return "Runs per day"
	case ChartDurations:
		return "Run durations"
	case ChartActivities:
		return "Time per activity"
	case ChartNodeFails:
		return "Failures by node"
	case ChartSpeed:
		return "Tokens per second by model"
	}
	return string(c)
}

// Okabe-Ito: a palette that colour-blind readers can tell apart
// (Okabe & Ito, "Color Universal Design", 2008).
var (
	OkabeOrange    = color.NRGBA{0xE6, 0x9F, 0x00, 0xFF}
	OkabeSkyBlue   = color.NRGBA{0x56, 0xB4, 0xE9, 0xFF}
	OkabeGreen     = color.NRGBA{0x00, 0x9E, 0x73, 0xFF} // bluish green
	OkabeYellow    = color.NRGBA{0xF0, 0xE4, 0x42, 0xFF}
	OkabeBlue      = color.NRGBA{0x00, 0x72, 0xB2, 0xFF}
	OkabeVermilion = color.NRGBA{0xD5, 0x5E, 0x00, 0xFF}
	OkabePurple    = color.NRGBA{0xCC, 0x79, 0xA7, 0xFF} // reddish purple
	OkabeBlack     = color.NRGBA{0x00, 0x00, 0x00, 0xFF}
)

// Palette is the series colours in order (black last: it reads as text).
var Palette = []color.Color{OkabeBlue, OkabeOrange, OkabeGreen, OkabeVermilion, OkabeSkyBlue, OkabePurple, OkabeYellow, OkabeBlack}

// statusColors fixes a colour per run status so every chart and report
// agrees: succeeded green, failed vermilion, stopped orange.
var statusColors = map[string]color.Color{
	"ok":          OkabeGreen,
	"failed":      OkabeVermilion,
	"stopped":     OkabeOrange,
	"cancelled":   OkabePurple,
	"interrupted": OkabeSkyBlue,
	"running":     OkabeBlue,
}

// statusOrder is the stacking order, bottom up; other statuses follow sorted.
var statusOrder = []string{"ok", "failed", "stopped", "cancelled", "interrupted", "running"}

// StatusColor returns the colour charts give a run status.
func StatusColor(status string) color.Color {
	if c, ok := statusColors[status]; ok {
		return c
	}
	return OkabeYellow
}

// maxBars caps the bars of the activity and node charts: the rest are the
// long tail a reader cannot compare anyway.
const maxBars = 12

// NewChart builds one chart of d for a w x h canvas. The size matters:
// bar widths are set from it.
func NewChart(d *Data, c Chart, w, h vg.Length) (*plot.Plot, error) {
	if d == nil {
		return nil, fmt.Errorf("chart %s: no data", c)
	}
	fonts, fnt, err := chartFonts()
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c, err)
	}
	p := plot.New()
	style(p, fonts, fnt)
	p.Title.Text = c.Title()
	switch c {
	case ChartRunsPerDay:
		err = runsPerDay(p, d, w)
	case ChartDurations:
		err = durations(p, d)
	case ChartActivities:
		err = activities(p, d, h)
	case ChartNodeFails:
		err = nodeFails(p, d, h)
	case ChartSpeed:
		err = speed(p, d)
	default:
		return nil, fmt.Errorf("unknown chart %q", c)
	}
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c, err)
	}
	return p, nil
}

// style sets the fonts and sizes of every text of p.
func style(p *plot.Plot, fonts *font.Cache, fnt font.Font) {
	hdlr := text.Plain{Fonts: fonts}
	set := func(s *text.Style, size vg.Length) {
		s.Handler = hdlr
		s.Font = font.From(fnt, size)
		s.Color = color.Gray{0x20}
	}
	p.TextHandler = hdlr
	set(&p.Title.TextStyle, 13)
	p.Title.Padding = 6
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		set(&a.Label.TextStyle, 11)
		set(&a.Tick.Label, 9)
		a.LineStyle.Color = color.Gray{0x80}
		a.Tick.LineStyle.Color = color.Gray{0x80}
	}
	p.Legend.TextStyle.Handler = hdlr
	p.Legend.TextStyle.Font = font.From(fnt, 10)
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = 12
}

// noData marks an empty chart with a note in its middle.
func noData(p *plot.Plot, what string) error {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{what}})
	if err != nil {
		return err
	}
	l.TextStyle[0].Font = p.Title.TextStyle.Font
	l.TextStyle[0].Font.Size = 11
	l.TextStyle[0].Handler = p.TextHandler
	l.TextStyle[0].Color = color.Gray{0x60}
	l.TextStyle[0].XAlign = draw.XCenter
	p.Add(l)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.HideAxes()
	return nil
}

// unit picks a readable unit for durations up to max.
func unit(max time.Duration) (name string, div time.Duration) {
	switch {
	case max < 2*time.Second:
		return "ms", time.Millisecond
	case max < 3*time.Minute:
		return "s", time.Second
	case max < 3*time.Hour:
		return "min", time.Minute
	}
	return "h", time.Hour
}

func in(d, div time.Duration) float64 { return float64(d) / float64(div) }

// everyNth labels only every nth tick of a nominal axis, so 90 days stay
// readable.
type everyNth struct {
	names []string
	n     int
}

func (e everyNth) Ticks(min, max float64) []plot.Tick {
	t := make([]plot.Tick, len(e.names))
	for i, name := range e.names {
		t[i].Value = float64(i)
		if i%e.n == 0 {
			t[i].Label = name
		}
	}
	return t
}

func runsPerDay(p *plot.Plot, d *Data, w vg.Length) error {
	total := 0
	seen := map[string]bool{}
	for _, day := range d.Days {
		for s, n := range day.ByStatus {
			total += n
			if n > 0 {
				seen[s] = true
			}
		}
	}
	if total == 0 {
		return noData(p, "No runs in this period")
	}
	var statuses []string
	for _, s := range statusOrder {
		if seen[s] {
			statuses = append(statuses, s)
			delete(seen, s)
		}
	}
	var rest []string
	for s := range seen {
		rest = append(rest, s)
	}
	sort.Strings(rest)
	statuses = append(statuses, rest...)

	names := make([]string, len(d.Days))
	for i, day := range d.Days {
		names[i] = day.Day.Format("Jan 2")
	}
	bw := (w - 80) / vg.Length(len(d.Days)) * 0.75
	bw = vg.Length(math.Max(1, math.Min(float64(bw), 28)))
	p.Add(gridY())
	var below *plotter.BarChart
	for _, s := range statuses {
		vs := make(plotter.Values, len(d.Days))
		for i, day := range d.Days {
			vs[i] = float64(day.ByStatus[s])
		}
		b, err := plotter.NewBarChart(vs, bw)
		if err != nil {
			return err
		}
		b.Color = StatusColor(s)
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(s, b)
	}
	p.NominalX(names...)
	p.X.Tick.Marker = everyNth{names, int(math.Ceil(float64(len(names)) / 10))}
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.X.Label.Text = "Day"
	p.Y.Label.Text = "Runs"
	p.Y.Min = 0
	p.Y.Max *= 1.25 // room for the legend
	p.Y.Tick.Marker = wholeTicks{}
	return nil
}

// wholeTicks puts ticks on whole numbers only (counts have no halves).
type wholeTicks struct{}

func (wholeTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	out := ts[:0]
	for _, t := range ts {
		if t.Value != math.Trunc(t.Value) {
			if t.Label == "" {
				continue
			}
			t.Label = ""
		}
		if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
		out = append(out, t)
	}
	return out
}

// plainTicks are the default ticks labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

func gridY() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	g.Horizontal.Color = color.Gray{0xE0}
	return g
}

func gridX() *plotter.Grid {
	g := plotter.NewGrid()
	g.Horizontal.Color = nil
	g.Vertical.Color = color.Gray{0xE0}
	return g
}

func durations(p *plot.Plot, d *Data) error {
	var max time.Duration
	n := 0
	for _, b := range d.Durations {
		n += b.Count
		if b.Hi > max {
			max = b.Hi
		}
	}
	if n == 0 {
		return noData(p, "No finished runs in this period")
	}
	name, div := unit(max)
	h := &plotter.Histogram{FillColor: OkabeBlue, LineStyle: draw.LineStyle{Color: color.White, Width: 0.5}}
	for _, b := range d.Durations {
		h.Bins = append(h.Bins, plotter.HistogramBin{Min: in(b.Lo, div), Max: in(b.Hi, div), Weight: float64(b.Count)})
	}
	if len(h.Bins) > 0 {
		h.Width = h.Bins[0].Max - h.Bins[0].Min
	}
	p.Add(gridY(), h)
	p.X.Label.Text = "Run duration (" + name + ")"
	p.Y.Label.Text = "Runs"
	p.Y.Min = 0
	p.Y.Tick.Marker = wholeTicks{}
	return nil
}

// barWidth fits n horizontal bars into a canvas of height h.
func barWidth(h vg.Length, n int) vg.Length {
	bw := (h - 70) / vg.Length(n) * 0.7
	return vg.Length(math.Max(2, math.Min(float64(bw), 24)))
}

func activities(p *plot.Plot, d *Data, h vg.Length) error {
	as := d.Activities
	if len(as) > maxBars {
		as = as[:maxBars]
	}
	var max time.Duration
	for _, a := range as {
		max = maxDur(max, a.Total)
	}
	if len(as) == 0 || max == 0 {
		return noData(p, "No steps in this period")
	}
	name, div := unit(max)
	// Largest at the top: the bars are drawn bottom up.
	vs := make(plotter.Values, len(as))
	names := make([]string, len(as))
	for i, a := range as {
		j := len(as) - 1 - i
		vs[j] = in(a.Total, div)
		names[j] = a.Type
	}
	b, err := plotter.NewBarChart(vs, barWidth(h, len(as)))
	if err != nil {
		return err
	}
	b.Horizontal = true
	b.Color = OkabeSkyBlue
	b.LineStyle.Width = 0
	p.Add(gridX(), b)
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	p.X.Label.Text = "Total time (" + name + ")"
	p.X.Min = 0
	return nil
}

func maxDur(a, b time.Duration) time.Duration {
	if b > a {
		return b
	}
	return a
}

// NodeName is how charts and tables name a node: its label and id, or the id.
func NodeName(label, node string) string {
	if label == "" || label == node {
		return node
	}
	return label + " (" + node + ")"
}

func nodeFails(p *plot.Plot, d *Data, h vg.Length) error {
	nf := d.NodeFails
	if len(nf) > maxBars {
		nf = nf[:maxBars]
	}
	total := 0
	for _, n := range nf {
		total += n.Count
	}
	if total == 0 {
		return noData(p, "No failures in this period")
	}
	flows := map[string]bool{}
	for _, n := range nf {
		flows[n.Flow] = true
	}
	vs := make(plotter.Values, len(nf))
	names := make([]string, len(nf))
	for i, n := range nf {
		j := len(nf) - 1 - i
		vs[j] = float64(n.Count)
		names[j] = NodeName(n.Label, n.Node)
		if len(flows) > 1 {
			names[j] = n.Flow + ": " + names[j]
		}
	}
	b, err := plotter.NewBarChart(vs, barWidth(h, len(nf)))
	if err != nil {
		return err
	}
	b.Horizontal = true
	b.Color = OkabeVermilion
	b.LineStyle.Width = 0
	p.Add(gridX(), b)
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	p.X.Label.Text = "Failed steps"
	p.X.Min = 0
	p.X.Tick.Marker = wholeTicks{}
	return nil
}

func speed(p *plot.Plot, d *Data) error {
	byModel := map[string]plotter.XYs{}
	var models []string
	var loc *time.Location
	for _, s := range d.Speed {
		if _, ok := byModel[s.Model]; !ok {
			models = append(models, s.Model)
		}
		if loc == nil {
			loc = s.Time.Location()
		}
		byModel[s.Model] = append(byModel[s.Model], plotter.XY{X: float64(s.Time.UnixNano()) / 1e9, Y: s.TokensPerSecond})
	}
	if len(models) == 0 {
		return noData(p, "No text generations in this period")
	}
	sort.Strings(models)
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}
	p.Add(gridY())
	for i, m := range models {
		xys := byModel[m]
		sort.Slice(xys, func(a, b int) bool { return xys[a].X < xys[b].X })
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		c := Palette[i%len(Palette)]
		l.Color, l.Width = c, 1.2
		s.Color, s.Shape, s.Radius = c, shapes[i%len(shapes)], 2.5
		p.Add(l, s)
		p.Legend.Add(m, l, s)
	}
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2\n15:04", Time: func(t float64) time.Time {
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(frac*1e9)).In(loc)
	}}
	p.X.Label.Text = "Time"
	p.Y.Label.Text = "Speed (tokens/s)"
	p.Y.Min = 0
	p.Y.Max *= 1.2 // room for the legend
	p.Y.Tick.Marker = plainTicks{}
	return nil
}

// margin keeps the chart off the image's edges.
func margin(c draw.Canvas) draw.Canvas { return draw.Crop(c, 6, -14, 4, -4) }

// ChartImage draws chart c at wDP x hDP device-independent pixels on a
// screen with this scale factor: the image is wDP*scale x hDP*scale pixels,
// so it stays crisp on HiDPI screens (fyne's canvas scale).
func ChartImage(d *Data, c Chart, wDP, hDP, scale float64) (image.Image, error) {
	if !(scale > 0 && scale <= 8) || !(wDP >= 50 && wDP <= 8000) || !(hDP >= 50 && hDP <= 8000) {
		return nil, fmt.Errorf("chart %s: bad size %gx%g at scale %g", c, wDP, hDP, scale)
	}
	// One dp is one point at 72 dpi; the scale raises the dpi.
	w, h := vg.Length(wDP), vg.Length(hDP)
	p, err := NewChart(d, c, w, h)
	if err != nil {
		return nil, err
	}
	cv := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(int(math.Round(72*scale))), vgimg.UseBackgroundColor(color.White))
	p.Draw(margin(draw.New(cv)))
	return cv.Image(), nil
}

// ChartPNG is ChartImage encoded as PNG.
func ChartPNG(d *Data, c Chart, wDP, hDP, scale float64) ([]byte, error) {
	img, err := ChartImage(d, c, wDP, hDP, scale)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// Fast compression: the PDF report embeds five of these, and the best
	// compression took twice the time for a tenth fewer bytes.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c, err)
	}
	return buf.Bytes(), nil
}

// ChartSVG draws chart c as SVG, w x h points; text refers to the font by
// its family name (WenQuanYi Micro Hei) rather than embedding it.
func ChartSVG(d *Data, c Chart, w, h vg.Length) ([]byte, error) {
	p, err := NewChart(d, c, w, h)
	if err != nil {
		return nil, err
	}
	cv := vgsvg.NewWith(vgsvg.UseWH(w, h))
	p.Draw(margin(draw.New(cv)))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: %w", c, err)
	}
	return buf.Bytes(), nil
}
