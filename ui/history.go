package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// HistoryRun is one past run as the History tab shows it.
type HistoryRun struct {
	ID       string
	Flow     string
	Status   string
	Error    string
	Start    time.Time
	Duration time.Duration
	Steps    int
}

// HistoryStep is one step of a past run.
type HistoryStep struct {
	Seq      int
	Node     string
	Type     string
	Label    string
	Attempt  int
	Status   string
	Port     string
	Error    string
	Start    time.Time
	Duration time.Duration
	// Inputs are the values the step's fields had as the activity
	// evaluated them (recorded at the history levels full and errors).
	Inputs  map[string]any
	Outputs map[string]any
	// Params are the node's fields as written in the flow, when known;
	// shown for a step that recorded no inputs (older runs, level steps).
	Params map[string]any
}

// HistorySource reads run history (the store, through an adapter in the
// app package).
type HistorySource interface {
	Runs(limit int) ([]HistoryRun, error)
	Steps(runID string) ([]HistoryStep, error)
	// VarsAt returns the variables as they were after step seq.
	VarsAt(runID string, seq int) (map[string]any, error)
	// Screenshot returns the path of a step's failure screenshot, or "".
	Screenshot(runID string, st HistoryStep) string
}

type historyPanel struct {
	src      HistorySource
	win      fyne.Window
	runs     []HistoryRun
	steps    []HistoryStep
	run      string
	runList  *widget.List
	stepList *widget.List
	detail   *widget.Label
	shot     *canvas.Image
	root     fyne.CanvasObject
	errLabel *widget.Label
}

func newHistoryPanel(src HistorySource, win fyne.Window) *historyPanel {
	h := &historyPanel{src: src, win: win}
	h.runList = widget.NewList(func() int { return len(h.runs) },
		func() fyne.CanvasObject {
			// the flow's name, then when, how it ended and how long it took
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			info := widget.NewLabel("")
			info.Truncation = fyne.TextTruncateEllipsis
			info.SizeName = theme.SizeNameCaptionText
			return container.New(layout.NewCustomPaddedVBoxLayout(-12), name, info)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := h.runs[i]
			c := o.(*fyne.Container)
			c.Objects[0].(*widget.Label).SetText(r.Flow)
			c.Objects[1].(*widget.Label).SetText(fmt.Sprintf("%s  %s  %s", r.Start.Format("01-02 15:04:05"), tr("status."+r.Status, r.Status), r.Duration.Round(time.Millisecond)))
		})
	h.stepList = widget.NewList(func() int { return len(h.steps) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			st := h.steps[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%3d %-8s %-18s %s", st.Seq, tr("status."+st.Status, st.Status), st.Node, st.Duration.Round(time.Microsecond)))
		})
	h.detail = widget.NewLabel(lang.L("Select a run, then a step."))
	h.detail.TextStyle.Monospace = true
	h.detail.Wrapping = fyne.TextWrapWord
	h.shot = canvas.NewImageFromFile("")
	h.shot.FillMode = canvas.ImageFillContain
	h.shot.SetMinSize(fyne.NewSize(240, 150))
	h.shot.Hide()
	h.errLabel = widget.NewLabel("")
	h.errLabel.Importance = widget.DangerImportance
	h.errLabel.Hide()
	h.runList.OnSelected = func(i widget.ListItemID) { h.selectRun(i) }
	h.stepList.OnSelected = func(i widget.ListItemID) { h.selectStep(i) }
	left := container.NewBorder(h.errLabel, nil, nil, nil, h.runList)
	detail := container.NewVScroll(container.NewVBox(h.detail, h.shot))
	inner := container.NewHSplit(h.stepList, detail)
	inner.Offset = 0.4
	outer := container.NewHSplit(left, inner)
	outer.Offset = 0.35
	h.root = outer
	return h
}

func (h *historyPanel) Object() fyne.CanvasObject { return h.root }

// Reload reads the runs again.
func (h *historyPanel) Reload() {
	runs, err := h.src.Runs(200)
	if err != nil {
		h.errLabel.SetText(err.Error())
		h.errLabel.Show()
		return
	}
	h.errLabel.Hide()
	h.runs = runs
	h.runList.Refresh()
}

func (h *historyPanel) selectRun(i int) {
	if i >= len(h.runs) {
		return
	}
	r := h.runs[i]
	h.run = r.ID
	steps, err := h.src.Steps(r.ID)
	if err != nil {
		h.detail.SetText(err.Error())
		return
	}
	h.steps = steps
	h.stepList.UnselectAll()
	h.stepList.Refresh()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n%s %s\n%s %s\n%s %s\n%s %d\n", lang.L("Run"), r.ID, lang.L("Flow"), r.Flow,
		lang.L("Status"), r.Status, lang.L("Duration"), r.Duration.Round(time.Millisecond), lang.L("Steps"), r.Steps)
	if r.Error != "" {
		fmt.Fprintf(&b, "%s %s\n", lang.L("Error"), r.Error)
	}
	h.detail.SetText(b.String())
	h.shot.Hide()
}

func (h *historyPanel) selectStep(i int) {
	if i >= len(h.steps) {
		return
	}
	st := h.steps[i]
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s (%s) %s\n", st.Seq, st.Node, st.Type, st.Label)
	fmt.Fprintf(&b, "%s: %s  %s: %s  %s: %d  %s: %s\n", lang.L("Status"), st.Status, lang.L("Port"), st.Port,
		lang.L("Attempt"), st.Attempt, lang.L("Duration"), st.Duration)
	if st.Error != "" {
		fmt.Fprintf(&b, "\n%s:\n%s\n", lang.L("Error"), st.Error)
	}
	section := func(title string, m map[string]any) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, k := range sortedKeys(m) {
			v, _ := json.Marshal(m[k])
			fmt.Fprintf(&b, "  %s = %s\n", k, ellipsize(string(v), 400))
		}
	}
	section(lang.L("Inputs"), st.Inputs)
	if len(st.Inputs) == 0 {
		section(lang.L("Fields as written"), st.Params)
	}
	section(lang.L("Outputs"), st.Outputs)
	if vars, err := h.src.VarsAt(h.run, st.Seq); err == nil {
		section(lang.L("Variables after the step"), vars)
	} else {
		fmt.Fprintf(&b, "\n%v\n", err)
	}
	h.detail.SetText(b.String())
	if p := h.src.Screenshot(h.run, st); p != "" {
		h.shot.File = p
		h.shot.Refresh()
		h.shot.Show()
	} else {
		h.shot.Hide()
	}
}
