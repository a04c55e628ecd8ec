package ui

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
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
	shotBox  *tapImage
	split    *container.Split // the screenshot above the text, when there is one
	pane     *fyne.Container
	text     fyne.CanvasObject
	root     fyne.CanvasObject
	// full is the window that shows a screenshot at full size.
	full     fyne.Window
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
			c.Objects[1].(*widget.Label).SetText(fmt.Sprintf("%s  %s  %s", r.Start.Format("01-02 15:04:05"), tr("status."+r.Status, r.Status), humanDur(r.Duration)))
		})
	h.stepList = widget.NewList(func() int { return len(h.steps) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			st := h.steps[i]
			l := o.(*widget.Label)
			l.Importance = widget.MediumImportance
			mark := "✓"
			switch st.Status {
			case "failed":
				mark, l.Importance = "✗", widget.DangerImportance
			case "caught", "retrying":
				mark, l.Importance = "!", widget.WarningImportance
			}
			l.SetText(fmt.Sprintf("%d %s %s · %s", st.Seq, mark, stepName(st), humanDur(st.Duration)))
		})
	h.detail = widget.NewLabel(lang.L("Select a run, then a step."))
	h.detail.TextStyle.Monospace = true
	h.detail.Wrapping = fyne.TextWrapWord
	h.shot = canvas.NewImageFromFile("")
	h.shot.FillMode = canvas.ImageFillContain
	h.shot.SetMinSize(fyne.NewSize(160, 100))
	h.shotBox = newTapImage(h.shot, func() { h.openFull() })
	h.shot.Hide()
	h.errLabel = widget.NewLabel("")
	h.errLabel.Importance = widget.DangerImportance
	h.errLabel.Hide()
	h.runList.OnSelected = func(i widget.ListItemID) { h.selectRun(i) }
	h.stepList.OnSelected = func(i widget.ListItemID) { h.selectStep(i) }
	left := container.NewBorder(h.errLabel, nil, nil, nil, h.runList)
	h.text = container.NewVScroll(h.detail)
	h.split = container.NewVSplit(h.shotBox, h.text)
	h.split.Offset = 0.65
	h.pane = container.NewStack(h.text)
	inner := container.NewHSplit(h.stepList, h.pane)
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
		lang.L("Status"), tr("status."+r.Status, r.Status), lang.L("Duration"), humanDur(r.Duration), lang.L("Steps"), r.Steps)
	if r.Error != "" {
		fmt.Fprintf(&b, "%s %s\n", lang.L("Error"), r.Error)
	}
	h.detail.SetText(b.String())
	h.showShot("")
}

func (h *historyPanel) selectStep(i int) {
	if i >= len(h.steps) {
		return
	}
	st := h.steps[i]
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s · %s\n", st.Seq, stepName(st), st.Type)
	fmt.Fprintf(&b, "%s: %s  %s: %s  %s: %d  %s: %s\n", lang.L("Status"), tr("status."+st.Status, st.Status), lang.L("Port"), portName(st.Port),
		lang.L("Attempt"), st.Attempt, lang.L("Duration"), humanDur(st.Duration))
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
	h.showShot(h.src.Screenshot(h.run, st))
}

// stepName names a step by its label, then its node id.
func stepName(st HistoryStep) string {
	if st.Label == "" || st.Label == st.Node {
		return st.Node
	}
	return fmt.Sprintf("%s (%s)", st.Label, st.Node)
}

// showShot shows a failure screenshot filling the detail pane above the
// text ("" shows the text alone).
func (h *historyPanel) showShot(path string) {
	if path == "" {
		h.shot.Hide()
		h.pane.Objects = []fyne.CanvasObject{h.text}
	} else {
		h.shot.File = path
		h.shot.Refresh()
		h.shot.Show()
		h.split.Leading, h.split.Trailing = h.shotBox, h.text
		h.pane.Objects = []fyne.CanvasObject{h.split}
		h.split.Refresh()
	}
	h.pane.Refresh()
}

// openFull opens the screenshot at full size in a window of its own.
func (h *historyPanel) openFull() {
	if h.shot.File == "" || !h.shot.Visible() {
		return
	}
	img := canvas.NewImageFromFile(h.shot.File)
	img.FillMode = canvas.ImageFillOriginal
	if h.full != nil {
		h.full.Close()
	}
	w := fyne.CurrentApp().NewWindow(lang.L("Screenshot") + " — " + filepath.Base(h.shot.File))
	w.SetContent(container.NewScroll(img))
	w.Resize(fyne.NewSize(1000, 700))
	w.SetOnClosed(func() {
		if h.full == w {
			h.full = nil
		}
	})
	h.full = w
	w.Show()
}

// tapImage is an image that opens something when tapped.
type tapImage struct {
	widget.BaseWidget
	img   *canvas.Image
	onTap func()
}

func newTapImage(img *canvas.Image, onTap func()) *tapImage {
	t := &tapImage{img: img, onTap: onTap}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapImage) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.img) }

// Tapped opens the image (fyne.Tappable).
func (t *tapImage) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

// Cursor shows a hand: the picture opens (desktop.Cursorable).
func (t *tapImage) Cursor() desktop.Cursor { return desktop.PointerCursor }

func portName(p string) string {
	if p == "" {
		return "-"
	}
	return tr("port."+p, p)
}
