package ui

import (
	"fmt"
	"image"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"deskbot/report"
)

// InsightsSource feeds the Insights tab: the statistics of the run
// history and its export (the store, through WireStore).
type InsightsSource interface {
	// Flows lists the flow names to filter by.
	Flows() ([]string, error)
	// Report collects the statistics of the runs f selects.
	Report(f report.Filter) (*report.Data, error)
	// Export writes the report as `deskbot report` does and returns the
	// files written.
	Export(f report.Filter, format report.Format, path string) ([]string, error)
}

// chartSize is the size of one chart in the tab, in dp; the image has
// this size times the canvas scale in pixels.
var chartSize = fyne.NewSize(460, 280)

// periods are the period choices, as report.Range.Since values; "" means
// the From and To dates.
var periods = []struct{ since, label string }{
	{"24h", "Last 24 hours"},
	{"7d", "Last 7 days"},
	{"30d", "Last 30 days"},
	{"90d", "Last 90 days"},
	{"all", "All time"},
	{"", "Dates"},
}

type insightsPanel struct {
	src   InsightsSource
	win   fyne.Window
	now   func() time.Time
	flow  *widget.Select
	since *widget.Select
	from  *widget.Entry
	to    *widget.Entry
	// Data is what the tab shows now (nil before the first load).
	Data     *report.Data
	summary  *widget.Label
	errLabel *widget.Label
	charts   map[report.Chart]*canvas.Image
	tables   *fyne.Container
	root     fyne.CanvasObject
	stale    bool
	// visible tells whether the tab is on screen: a run's end reloads it
	// then, and marks it stale otherwise (charts take a moment to draw).
	visible func() bool
}

func newInsightsPanel(src InsightsSource, win fyne.Window) *insightsPanel {
	p := &insightsPanel{src: src, win: win, now: time.Now, charts: map[report.Chart]*canvas.Image{}, stale: true}
	all := lang.L("All flows")
	p.flow = widget.NewSelect([]string{all}, func(string) { p.Reload() })
	p.flow.SetSelected(all)
	var labels []string
	for _, pr := range periods {
		labels = append(labels, lang.L(pr.label))
	}
	p.from = widget.NewEntry()
	p.from.SetPlaceHolder("2026-01-31")
	p.to = widget.NewEntry()
	p.to.SetPlaceHolder("2026-01-31")
	p.from.OnSubmitted = func(string) { p.Reload() }
	p.to.OnSubmitted = func(string) { p.Reload() }
	p.since = widget.NewSelect(labels, func(string) {
		dates := p.since.SelectedIndex() == len(periods)-1
		for _, e := range []*widget.Entry{p.from, p.to} {
			if dates {
				e.Enable()
			} else {
				e.Disable()
			}
		}
		p.Reload()
	})
	p.since.SetSelectedIndex(1) // 7 days
	refresh := widget.NewButton(lang.L("Refresh"), func() { p.Reload() })
	export := widget.NewButton(lang.L("Export…"), p.exportDialog)
	p.summary = widget.NewLabel("")
	p.summary.Wrapping = fyne.TextWrapWord
	p.errLabel = widget.NewLabel("")
	p.errLabel.Importance = widget.DangerImportance
	p.errLabel.Wrapping = fyne.TextWrapWord
	p.errLabel.Hide()

	grid := container.NewGridWrap(chartSize)
	for _, c := range report.Charts {
		img := canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 1, 1)))
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(chartSize)
		p.charts[c] = img
		grid.Add(img)
	}
	p.tables = container.NewVBox()
	bar := container.NewHBox(
		widget.NewLabel(lang.L("Flow")), p.flow,
		widget.NewLabel(lang.L("Period")), p.since,
		widget.NewLabel(lang.L("From")), dateBox(p.from),
		widget.NewLabel(lang.L("To")), dateBox(p.to),
		refresh, export,
	)
	top := container.NewVBox(container.NewHScroll(bar), p.errLabel, p.summary)
	p.root = container.NewBorder(top, nil, nil, nil, container.NewVScroll(container.NewVBox(grid, p.tables)))
	return p
}

func (p *insightsPanel) Object() fyne.CanvasObject { return p.root }

// dateBox gives a date entry room for YYYY-MM-DD in a row of controls.
func dateBox(e *widget.Entry) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(130, e.MinSize().Height), e)
}

// Filter is the filter the controls select.
func (p *insightsPanel) Filter() (report.Filter, error) {
	flow := p.flow.Selected
	if flow == lang.L("All flows") {
		flow = ""
	}
	r := report.Range{Since: "7d"}
	if i := p.since.SelectedIndex(); i >= 0 {
		r.Since = periods[i].since
	}
	if r.Since == "" {
		r.From, r.To = strings.TrimSpace(p.from.Text), strings.TrimSpace(p.to.Text)
	}
	return r.Filter(flow, p.now(), time.Local)
}

// RunEnded refreshes the tab after a run, or marks it for a refresh when
// it is next shown.
func (p *insightsPanel) RunEnded() {
	p.stale = true
	if p.visible != nil && p.visible() {
		p.Reload()
	}
}

// Shown reloads the tab if a run ended since it last drew.
func (p *insightsPanel) Shown() {
	if p.stale {
		p.Reload()
	}
}

// Reload reads the statistics and draws the charts at the canvas scale.
func (p *insightsPanel) Reload() {
	if p.summary == nil || p.to == nil { // still being built
		return
	}
	p.stale = false
	p.loadFlows()
	f, err := p.Filter()
	if err == nil {
		p.Data, err = p.src.Report(f)
	}
	if err != nil {
		p.errLabel.SetText(err.Error())
		p.errLabel.Show()
		return
	}
	p.errLabel.Hide()
	d := p.Data
	s := d.Summary
	p.summary.SetText(fmt.Sprintf("%s: %d   %s: %d   %s: %d   %s: %d   %s: %.1f%%   p50 %s   p90 %s   %s: %d   %s: %d",
		lang.L("Runs"), s.Runs, lang.L("Succeeded"), s.Succeeded, lang.L("Failed"), s.Failed, lang.L("Stopped"), s.Stopped,
		lang.L("Success rate"), s.SuccessRate*100, roundDur(s.P50), roundDur(s.P90),
		lang.L("Items processed"), s.Items, lang.L("Generations"), s.Generations))
	scale := float64(1)
	if c := p.win.Canvas(); c != nil && c.Scale() > 0 {
		scale = float64(c.Scale())
	}
	for _, c := range report.Charts {
		img, err := report.ChartImage(d, c, float64(chartSize.Width), float64(chartSize.Height), scale)
		if err != nil {
			p.errLabel.SetText(err.Error())
			p.errLabel.Show()
			continue
		}
		p.charts[c].Image = img
		p.charts[c].Refresh()
	}
	p.tables.RemoveAll()
	for _, t := range report.Tables(d) {
		switch t.Name {
		case "Activities", "Failures by node", "Models":
			p.tables.Add(tableView(t))
		}
	}
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// loadFlows fills the flow choice, keeping the selection.
func (p *insightsPanel) loadFlows() {
	names, err := p.src.Flows()
	if err != nil {
		return
	}
	opts := append([]string{lang.L("All flows")}, names...)
	if strings.Join(opts, "\x00") == strings.Join(p.flow.Options, "\x00") {
		return
	}
	p.flow.Options = opts
	p.flow.Refresh()
}

// tableView shows a report table: a heading and a grid of labels (the
// tables here are short: at most a dozen rows each).
func tableView(t report.Table) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(lang.X("insights.table."+t.Name, t.Name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if len(t.Rows) == 0 {
		return container.NewVBox(head, widget.NewLabel(lang.L("None in this period.")))
	}
	grid := container.NewGridWithColumns(len(t.Columns))
	for _, c := range t.Columns {
		grid.Add(widget.NewLabelWithStyle(lang.X("insights.column."+c, c), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	rows := t.Rows
	if len(rows) > 12 {
		rows = rows[:12]
	}
	for _, r := range rows {
		for _, v := range r {
			l := widget.NewLabel(report.Text(v))
			l.Truncation = fyne.TextTruncateEllipsis
			grid.Add(l)
		}
	}
	return container.NewVBox(head, grid)
}

// exportDialog asks for a format, then a file, and exports.
func (p *insightsPanel) exportDialog() {
	var formats []string
	for _, f := range report.Formats {
		formats = append(formats, strings.ToUpper(string(f)))
	}
	choice := widget.NewSelect(formats, nil)
	choice.SetSelectedIndex(0)
	dialog.ShowForm(lang.L("Export report"), lang.L("Next…"), lang.L("Cancel"),
		[]*widget.FormItem{widget.NewFormItem(lang.L("Format"), choice)},
		func(ok bool) {
			if !ok {
				return
			}
			format := report.Formats[choice.SelectedIndex()]
			d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
				if err != nil || w == nil {
					return
				}
				w.Close()
				path := w.URI().Path()
				os.Remove(path) // Export writes it whole, through a temporary file
				p.ExportTo(format, path)
			}, p.win)
			d.SetFileName("deskbot-report." + string(format))
			d.Show()
		}, p.win)
}

// ExportTo exports the report the controls select, as `deskbot report`
// does, and says where it went (or why not).
func (p *insightsPanel) ExportTo(format report.Format, path string) ([]string, error) {
	f, err := p.Filter()
	var files []string
	if err == nil {
		files, err = p.src.Export(f, format, path)
	}
	if err != nil {
		dialog.ShowError(err, p.win)
		return nil, err
	}
	dialog.ShowInformation(lang.L("Export report"), lang.L("Written:")+"\n"+strings.Join(files, "\n"), p.win)
	return files, nil
}
