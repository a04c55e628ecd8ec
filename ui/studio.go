package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
	"deskbot/store"
)

// Options configure a Studio.
type Options struct {
	Registry *engine.Registry // nil: engine.Default
	// SamplesDir holds the sample flows offered on the start page.
	SamplesDir string
	// SamplesWorkDir, if set, is where a sample is opened from: the samples
	// folder is copied there on first open (an installed Deskbot, whose
	// SamplesDir is read-only, copies them into the user's documents).
	SamplesWorkDir string
	// DataDir holds autosaves (DataDir/autosave); "" disables autosave.
	DataDir string
	// Recorder, if set, returns an observer that records a run (the store)
	// and a function called with the run's result when it ends.
	Recorder func(ctx context.Context, flow *engine.Flow, path, runID string) (engine.Observer, func(*engine.Result, error), error)
	// Prepare, if set, completes a run's options before it starts
	// (services such as the desktop, the artifact folder); stop cancels the
	// run (for a failsafe or hotkey).
	Prepare func(ctx context.Context, stop context.CancelCauseFunc, opts *engine.Options) error
	// OnSave, if set, is called after each successful save (the store's flow
	// library keeps every save as a version).
	OnSave func(f *engine.Flow, path string)
	// Version is the program's version line, for Help › About.
	Version string
	// History feeds the History tab; nil hides it.
	History HistorySource
	// Insights feeds the Insights tab (statistics, charts, export); nil
	// hides it.
	Insights InsightsSource
	// Generations feeds the Generations tab (the generated texts); nil
	// hides it.
	Generations *store.DB
	// AutosaveEvery is the autosave period (default 15s).
	AutosaveEvery time.Duration
	// Minimize, if set, minimizes the studio's window (titled title) and
	// returns what brings it back. With the "Minimize while running"
	// setting on, a Run (not Debug or Step) calls it before the flow starts,
	// so that the bot sees the desktop, and restore when the run ends.
	Minimize func(title string) (restore func(), err error)
	// Screen, if set, opens the live desktop for "Indicate on screen" and
	// "Test" in the properties (ui/pick.go).
	Screen ScreenOpener
	// LocalThreads is the local model's default thread count (the physical
	// cores), shown in Run › Local model…; Quants the quantisations it
	// offers besides float32.
	LocalThreads int
	Quants       []string
	// OnLocalModel, if set, is called with the local-model settings when
	// the studio opens and whenever Run › Local model… changes them.
	OnLocalModel func(LocalModel)
}

// Studio is the main window.
type Studio struct {
	App  fyne.App
	Win  fyne.Window
	opts Options
	reg  *engine.Registry

	Doc      *Document
	Canvas   *FlowCanvas
	Palette  *Palette
	Props    *PropertyPanel
	Problems []engine.Problem

	bridge *bridge
	run    *activeRun

	outLines   []outLine
	outHeights map[int]float32
	nodeNames  map[string]string // nodeName's answers during a run
	Output     *widget.List
	varVals    map[string]any
	Vars       *VarsView
	ProbList   *widget.List
	Tabs       *container.AppTabs
	history    *historyPanel
	insights   *insightsPanel
	gens       *generationsPanel
	status     *widget.Label
	statusText string

	main      fyne.CanvasObject
	startPage fyne.CanvasObject
	onStart   bool

	lastAutosave time.Time
	stopTicker   chan struct{}
	buttons      map[string]*widget.Button

	askWin    fyne.Window  // the window of the dialog a run shows now
	askCancel func()       // what closing askWin does
	picking   bool         // a screenshot for a pick is being taken
	overlay   *pickOverlay // the last pick or Test overlay (tests drive it)

	loadMu   sync.Mutex // ShowLoadProgress's last report
	loadWhat string
	loadPct  int64

	// commands.go, help.go, runsettings.go, typedpath.go
	cmds          []*Command                // the table of commands (commands.go)
	menuItems     map[string]*fyne.MenuItem // the main menu's items by command id
	themeItem     *fyne.MenuItem            // View › Theme
	refWin        fyne.Window               // Help › Activity reference, while open
	debugPath     string                    // StartDebugState's file
	debugLast     string                    // what it holds
	runSettings   *runSettingsForm          // Run › Run settings…, while open
	modelSettings *modelSettingsForm        // Run › Local model…, while open
	keyMods       func() fyne.KeyModifier   // tests: the modifiers held
	fileTarget    *fileTarget               // the Open or Save dialog showing now
	pathBox       *pathBox                  // "Type a path", while open
}

// activeRun is the run in progress.
type activeRun struct {
	id      string
	cancel  context.CancelCauseFunc
	ctl     *engine.Control
	debug   bool
	started time.Time
	paused  string
	done    chan struct{}
	steps   int
}

// NewStudio builds the studio window on app a. The window shows the start
// page until a flow is opened.
func NewStudio(a fyne.App, opts Options) *Studio {
	if opts.Registry == nil {
		opts.Registry = engine.Default
	}
	if opts.AutosaveEvery == 0 {
		opts.AutosaveEvery = 15 * time.Second
	}
	s := &Studio{App: a, opts: opts, reg: opts.Registry, varVals: map[string]any{}, buttons: map[string]*widget.Button{}}
	s.bridge = newBridge(s.applyBatch)
	s.menuItems = map[string]*fyne.MenuItem{}
	s.cmds = s.commands()
	s.Win = a.NewWindow("Deskbot")
	s.Doc = NewDocument(engine.NewFlow(lang.L("Untitled flow")), "")
	s.build()
	s.Win.SetMainMenu(s.menu())
	s.addShortcuts()
	s.Win.SetCloseIntercept(s.closeRequested)
	s.Win.Resize(fyne.NewSize(1280, 800))
	s.setDocument(s.Doc)
	s.updateButtons()
	s.applyTheme()
	s.ShowStartPage()
	if opts.OnLocalModel != nil {
		opts.OnLocalModel(s.LocalModel())
	}
	return s
}

// build creates the widgets of the editor.
func (s *Studio) build() {
	s.Canvas = NewFlowCanvas(s.Doc, s.reg)
	s.Canvas.Breakpoints = map[string]bool{}
	s.Canvas.OnSelect = s.selectionChanged
	s.Canvas.OnContextMenu = s.contextMenu
	s.Palette = NewPalette(s.reg,
		func(sp *engine.Spec, abs fyne.Position) { s.Canvas.ShowGhost(abs, sp.Title) },
		func(sp *engine.Spec, abs fyne.Position) { s.Canvas.DropSpec(sp, abs) },
		func(sp *engine.Spec) {
			sz := s.Canvas.Size()
			s.Canvas.AddSpecAt(sp, fyne.NewPos(sz.Width/2, sz.Height/2))
		})
	s.Props = NewPropertyPanel(s.Doc, s.reg)
	s.Props.Breakpoint = func(id string) bool { return s.Canvas.Breakpoints[id] }
	s.Props.OnBreakpoint = s.SetBreakpoint
	s.Props.BrowseFile = s.browseFile
	s.wirePick()
	s.Props.Win = s.Win
	s.Props.RunVars = func() map[string]any { return s.varVals }

	s.Output = s.newOutputList()
	s.Vars = s.newVarsView()
	s.ProbList = widget.NewList(func() int { return len(s.Problems) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.ErrorIcon()), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			p := s.Problems[i]
			box := o.(*fyne.Container)
			ic := theme.ErrorIcon()
			if p.Severity == engine.SeverityWarning {
				ic = theme.WarningIcon()
			}
			box.Objects[0].(*widget.Icon).SetResource(ic)
			where := ""
			if p.NodeID != "" {
				where = s.nodeName(p.NodeID, "", "")
			}
			if p.Field != "" {
				where += " · " + p.Field
			}
			if where == "" {
				where = lang.L("flow")
			}
			box.Objects[1].(*widget.Label).SetText(where + ": " + p.Msg)
		})
	s.ProbList.OnSelected = func(i widget.ListItemID) {
		s.ProbList.UnselectAll()
		if i < len(s.Problems) {
			s.SelectProblem(i)
		}
	}
	s.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(lang.L("Output"), theme.ListIcon(), s.Output),
		container.NewTabItemWithIcon(lang.L("Variables"), theme.StorageIcon(), s.Vars.Object()),
		container.NewTabItemWithIcon(lang.L("Problems"), theme.WarningIcon(), s.ProbList),
	)
	if s.opts.History != nil {
		s.history = newHistoryPanel(s.opts.History, s.Win)
		s.Tabs.Append(container.NewTabItemWithIcon(lang.L("History"), theme.HistoryIcon(), s.history.Object()))
	}
	if s.opts.Insights != nil {
		s.insights = newInsightsPanel(s.opts.Insights, s.Win)
		s.Tabs.Append(container.NewTabItemWithIcon(lang.L("Insights"), theme.GridIcon(), s.insights.Object()))
		s.insights.visible = func() bool {
			t := s.Tabs.Selected()
			return t != nil && t.Content == s.insights.Object()
		}
	}
	if s.opts.Generations != nil {
		s.gens = newGenerationsPanel(s.opts.Generations, s.Win)
		s.Tabs.Append(container.NewTabItemWithIcon(lang.L("Generations"), theme.DocumentIcon(), s.gens.Object()))
	}
	s.Tabs.OnSelected = func(t *container.TabItem) {
		switch {
		case s.history != nil && t.Content == s.history.Object():
			s.history.Reload()
		case s.insights != nil && t.Content == s.insights.Object():
			s.insights.Shown()
		case s.gens != nil && t.Content == s.gens.Object():
			s.gens.refreshChoices()
			s.gens.Reload()
		}
	}
	s.statusText = lang.L("Ready")
	s.status = widget.NewLabel(s.statusText)
	s.status.Truncation = fyne.TextTruncateEllipsis

	centre := container.NewVSplit(s.Canvas, s.Tabs)
	centre.Offset = 0.72
	right := container.NewHSplit(centre, s.Props.Object())
	right.Offset = 0.74
	all := container.NewHSplit(s.Palette.Object(), right)
	all.Offset = 0.16
	s.main = container.NewBorder(s.toolbar(), nil, nil, nil, all)
}

// PrefLanguage is the preference key of the language override ("" follows
// the system).
const PrefLanguage = "language"

// prefRecent holds recently opened flow paths.
const prefRecent = "recent"

// setDocument shows doc in every view.
func (s *Studio) setDocument(doc *Document) {
	s.Doc = doc
	doc.OnChange(func() { s.docChanged(doc) })
	s.Canvas.SetDocument(doc)
	s.Canvas.Breakpoints = map[string]bool{}
	s.Props.Show(doc, "", nil)
	s.lint()
	s.updateTitle()
}

func (s *Studio) docChanged(doc *Document) {
	if doc != s.Doc {
		return
	}
	// Undo may have replaced every node: drop selections of vanished ones.
	for id := range s.Canvas.selected {
		if doc.Flow.Node(id) == nil {
			delete(s.Canvas.selected, id)
		}
	}
	s.Canvas.Refresh()
	s.lint()
	if !s.Props.Writing() {
		s.showProps()
	}
	s.updateTitle()
	if time.Since(s.lastAutosave) > s.opts.AutosaveEvery {
		s.autosave()
	}
}

func (s *Studio) selectionChanged() { s.showProps() }

func (s *Studio) showProps() {
	sel := s.Canvas.Selection()
	id := ""
	if len(sel) == 1 {
		id = sel[0]
	}
	s.Props.Show(s.Doc, id, s.Problems)
}

func (s *Studio) baseDir() string {
	if s.Doc.Path != "" {
		return filepath.Dir(s.Doc.Path)
	}
	wd, _ := os.Getwd()
	return wd
}

// lint refreshes the Problems tab and the canvas' problem markers.
func (s *Studio) lint() {
	s.Problems = engine.Lint(s.Doc.Flow, s.reg, s.baseDir())
	probs := map[string]bool{}
	for _, p := range s.Problems {
		if p.Severity == engine.SeverityError && p.NodeID != "" {
			probs[p.NodeID] = true
		}
	}
	s.Canvas.Problems = probs
	s.ProbList.Refresh()
	s.Props.SetProblems(s.Problems)
	if len(s.Tabs.Items) > 2 {
		t := lang.L("Problems")
		if n := len(s.Problems); n > 0 {
			t = fmt.Sprintf("%s (%d)", t, n)
		}
		if s.Tabs.Items[2].Text != t {
			s.Tabs.Items[2].Text = t
			s.Tabs.Refresh()
		}
	}
}

// SelectProblem selects the node of problem i and shows it.
func (s *Studio) SelectProblem(i int) {
	p := s.Problems[i]
	if p.NodeID == "" || s.Doc.Flow.Node(p.NodeID) == nil {
		s.Canvas.Select()
		return
	}
	s.Canvas.Select(p.NodeID)
	s.Canvas.Reveal(p.NodeID)
}

func (s *Studio) updateTitle() {
	name := s.Doc.Flow.Name
	if name == "" {
		name = lang.L("Untitled flow")
	}
	t := "Deskbot — " + name
	if s.Doc.Dirty() {
		t += " •"
	}
	if s.onStart {
		t = "Deskbot"
	}
	if s.Win.Title() != t {
		s.Win.SetTitle(t)
	}
}

// ShowEditor shows the flow editor.
func (s *Studio) ShowEditor() {
	s.onStart = false
	s.Win.SetContent(s.main)
	s.updateTitle()
	s.Win.Canvas().Focus(s.Canvas)
}

// ShowStartPage shows the start page.
func (s *Studio) ShowStartPage() {
	s.onStart = true
	s.startPage = s.buildStartPage()
	s.Win.SetContent(s.startPage)
	s.updateTitle()
}

// Undo undoes the last edit.
func (s *Studio) Undo() { s.Doc.Undo() }

// Redo redoes the last undone edit.
func (s *Studio) Redo() { s.Doc.Redo() }

// Copy puts the selected nodes on the clipboard.
func (s *Studio) Copy() {
	if t := s.Doc.Copy(s.Canvas.SelectedSet()); t != "" {
		s.App.Clipboard().SetContent(t)
	}
}

// Paste adds the clipboard's nodes next to their originals.
func (s *Studio) Paste() {
	ids, err := s.Doc.Paste(s.App.Clipboard().Content(), engine.Point{X: 40, Y: 40})
	if err != nil {
		s.setStatus(err.Error())
		return
	}
	s.Canvas.Select(ids...)
}

// ToggleBreakpoint toggles a breakpoint on the selected nodes.
func (s *Studio) ToggleBreakpoint() {
	for _, id := range s.Canvas.Selection() {
		s.SetBreakpoint(id, !s.Canvas.Breakpoints[id])
	}
}

// SetBreakpoint sets or clears a breakpoint on node id.
func (s *Studio) SetBreakpoint(id string, on bool) {
	if on {
		s.Canvas.Breakpoints[id] = true
	} else {
		delete(s.Canvas.Breakpoints, id)
	}
	if s.run != nil && s.run.debug {
		s.run.ctl.SetBreakpoint(id, on)
	}
	s.Canvas.Refresh()
}

func (s *Studio) contextMenu(id string, abs fyne.Position) {
	var items []*fyne.MenuItem
	if id != "" {
		bp := fyne.NewMenuItem(lang.L("Toggle breakpoint"), func() { s.SetBreakpoint(id, !s.Canvas.Breakpoints[id]) })
		bp.Checked = s.Canvas.Breakpoints[id]
		items = append(items,
			bp,
			s.contextItem("copy"),
			s.contextItem("delete"),
		)
	} else {
		items = append(items, s.contextItem("paste"), s.contextItem("fit"))
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), s.Win.Canvas(), abs)
}

func (s *Studio) setStatus(msg string) {
	s.statusText = msg
	s.status.SetText(msg)
}

// hoverStatus shows a toolbar button's name and shortcut while the pointer
// is on it ("" restores the status).
func (s *Studio) hoverStatus(hint string) {
	if hint == "" {
		s.status.SetText(s.statusText)
		return
	}
	s.status.SetText(hint)
}

// toolButton is a toolbar button that shows its shortcut in the status line
// while hovered.
type toolButton struct {
	widget.Button
	hint   string
	status func(string)
}

// MouseIn shows the hint (desktop.Hoverable).
func (b *toolButton) MouseIn(e *desktop.MouseEvent) {
	b.Button.MouseIn(e)
	if b.hint != "" {
		b.status(b.hint)
	}
}

// MouseOut restores the status line (desktop.Hoverable).
func (b *toolButton) MouseOut() {
	b.Button.MouseOut()
	if b.hint != "" {
		b.status("")
	}
}

// New starts an empty flow (asking first about unsaved changes).
func (s *Studio) New() {
	s.confirmDiscard(func() {
		s.discardAutosave()
		s.setDocument(NewDocument(engine.NewFlow(lang.L("Untitled flow")), ""))
		s.ShowEditor()
		s.Canvas.Fit()
		s.Canvas.ZoomAt(1, fyne.NewPos(0, 0))
	})
}

// OpenFile opens a flow file in the editor.
func (s *Studio) OpenFile(path string) error {
	f, err := engine.LoadFile(path)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		path = abs
	}
	s.discardAutosave()
	s.setDocument(NewDocument(f, path))
	s.addRecent(path)
	s.ShowEditor()
	s.Canvas.Fit()
	return nil
}

// OpenDialog asks for a flow file to open.
func (s *Studio) OpenDialog() {
	s.confirmDiscard(func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			if err := s.OpenFile(r.URI().Path()); err != nil {
				dialog.ShowError(err, s.Win)
			}
		}, s.Win)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
		s.setDialogDir(d)
		s.showFileDialog(d, lang.L("Open a flow"), false, s.OpenFile)
	})
}

type dirSetter interface{ SetLocation(fyne.ListableURI) }

func (s *Studio) setDialogDir(d dirSetter) {
	dir := s.baseDir()
	if s.Doc.Path == "" {
		// A new flow: the user's documents, as other desktop programs do
		// (the samples are on the start page).
		if home, err := os.UserHomeDir(); err == nil {
			dir = home
			if st, err := os.Stat(filepath.Join(home, "Documents")); err == nil && st.IsDir() {
				dir = filepath.Join(home, "Documents")
			}
		}
	}
	if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
		d.SetLocation(l)
	}
}

// Save writes the flow to its file (asking for one if it has none); done,
// if set, is called after a successful save.
func (s *Studio) Save(done func()) {
	if s.Doc.Path == "" {
		s.SaveAs(done)
		return
	}
	if err := s.SaveTo(s.Doc.Path); err != nil {
		dialog.ShowError(err, s.Win)
		return
	}
	if done != nil {
		done()
	}
}

// SaveTo writes the flow to path.
func (s *Studio) SaveTo(path string) error {
	if err := s.Doc.Flow.Save(path); err != nil {
		return err
	}
	s.discardAutosave()
	s.Doc.MarkSaved(path)
	if s.opts.OnSave != nil {
		s.opts.OnSave(s.Doc.Flow, path)
	}
	s.addRecent(path)
	s.updateTitle()
	s.setStatus(fmt.Sprintf(lang.L("Saved %s"), path))
	return nil
}

// SaveAs asks for a file name and saves there.
func (s *Studio) SaveAs(done func()) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		w.Close()
		path := w.URI().Path()
		if !strings.HasSuffix(path, ".json") {
			os.Remove(path)
			path += ".json"
		}
		if err := s.SaveTo(path); err != nil {
			dialog.ShowError(err, s.Win)
			return
		}
		if done != nil {
			done()
		}
	}, s.Win)
	name := s.Doc.Flow.Name
	if name == "" {
		name = "flow"
	}
	d.SetFileName(strings.ReplaceAll(strings.ToLower(name), " ", "-") + ".json")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
	s.setDialogDir(d)
	s.showFileDialog(d, lang.L("Save the flow as"), true, func(path string) error {
		if err := s.SaveTo(path); err != nil {
			return err
		}
		if done != nil {
			done()
		}
		return nil
	})
}

// confirmDiscard runs then after asking what to do with unsaved changes.
func (s *Studio) confirmDiscard(then func()) {
	if !s.Doc.Dirty() {
		then()
		return
	}
	var d dialog.Dialog
	save := widget.NewButtonWithIcon(lang.L("Save"), theme.DocumentSaveIcon(), func() { d.Hide(); s.Save(then) })
	save.Importance = widget.HighImportance
	discard := widget.NewButton(lang.L("Don't save"), func() { d.Hide(); s.discardAutosave(); s.Doc.dirty = false; then() })
	cancel := widget.NewButton(lang.L("Cancel"), func() { d.Hide() })
	msg := widget.NewLabel(fmt.Sprintf(lang.L("Save the changes to “%s”?"), s.Doc.Flow.Name))
	d = dialog.NewCustomWithoutButtons(lang.L("Unsaved changes"), container.NewVBox(msg, container.NewHBox(cancel, discard, save)), s.Win)
	d.Show()
}

// closeRequested handles the window's close button.
func (s *Studio) closeRequested() {
	s.confirmDiscard(func() {
		if s.run != nil {
			s.run.cancel(engine.ErrStoppedByUser)
		}
		s.discardAutosave()
		if s.stopTicker != nil {
			close(s.stopTicker)
			s.stopTicker = nil
		}
		s.Win.Close()
	})
}

func (s *Studio) browseFile(save bool, cb func(string)) {
	if save {
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err == nil && w != nil {
				w.Close()
				os.Remove(w.URI().Path())
				cb(s.relPath(w.URI().Path()))
			}
		}, s.Win)
		s.setDialogDir(d)
		d.Resize(s.fileDialogSize())
		d.Show()
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err == nil && r != nil {
			r.Close()
			cb(s.relPath(r.URI().Path()))
		}
	}, s.Win)
	s.setDialogDir(d)
	d.Resize(s.fileDialogSize())
	d.Show()
}

// fileDialogSize is the size of the Open and Save dialogs: most of the
// window (fyne's default is small), at least 800x560.
func (s *Studio) fileDialogSize() fyne.Size {
	sz := s.Win.Canvas().Size()
	return fyne.NewSize(max(800, sz.Width*0.85), max(560, sz.Height*0.85))
}

// relPath makes p relative to the flow's folder when it lies inside it.
func (s *Studio) relPath(p string) string {
	if rel, err := filepath.Rel(s.baseDir(), p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return p
}

func (s *Studio) addRecent(path string) {
	prefs := s.App.Preferences()
	list := []string{path}
	for _, p := range prefs.StringList(prefRecent) {
		if p != path && len(list) < 8 {
			list = append(list, p)
		}
	}
	prefs.SetStringList(prefRecent, list)
}

// Recent returns the recently opened flows that still exist.
func (s *Studio) Recent() []string {
	var out []string
	for _, p := range s.App.Preferences().StringList(prefRecent) {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// autosave writes the flow for crash recovery.
func (s *Studio) autosave() {
	s.lastAutosave = time.Now()
	if s.opts.DataDir == "" || !s.Doc.Dirty() {
		return
	}
	p := s.autosavePath()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	b, err := s.Doc.Flow.Marshal()
	if err != nil {
		return
	}
	_ = engine.WriteFileAtomic(p, b, 0o644)
	_ = engine.WriteFileAtomic(strings.TrimSuffix(p, ".json")+".path", []byte(s.Doc.Path), 0o644)
}

func (s *Studio) autosavePath() string {
	key := s.Doc.Path
	if key == "" {
		key = fmt.Sprintf("untitled-%d", os.Getpid())
	}
	h := fnv64(key)
	return filepath.Join(s.opts.DataDir, "autosave", fmt.Sprintf("%016x.json", h))
}

func (s *Studio) discardAutosave() {
	if s.opts.DataDir == "" {
		return
	}
	p := s.autosavePath()
	os.Remove(p)
	os.Remove(strings.TrimSuffix(p, ".json") + ".path")
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// Recovery is an autosaved flow left by a session that did not end cleanly.
type Recovery struct {
	File string // the autosave file
	Path string // the flow's own file, "" if never saved
	Name string
	Time time.Time
}

// Recoveries lists autosaves found in DataDir.
func (s *Studio) Recoveries() []Recovery {
	if s.opts.DataDir == "" {
		return nil
	}
	dir := filepath.Join(s.opts.DataDir, "autosave")
	ents, _ := os.ReadDir(dir)
	var out []Recovery
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		f, err := engine.LoadFile(file)
		if err != nil {
			continue
		}
		path, _ := os.ReadFile(strings.TrimSuffix(file, ".json") + ".path")
		info, _ := e.Info()
		r := Recovery{File: file, Path: string(path), Name: f.Name}
		if info != nil {
			r.Time = info.ModTime()
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}

// Recover opens an autosaved flow as unsaved changes to its original file.
func (s *Studio) Recover(r Recovery) error {
	f, err := engine.LoadFile(r.File)
	if err != nil {
		return err
	}
	os.Remove(r.File)
	os.Remove(strings.TrimSuffix(r.File, ".json") + ".path")
	doc := NewDocument(f, r.Path)
	doc.dirty = true
	s.setDocument(doc)
	s.ShowEditor()
	s.Canvas.Fit()
	s.autosave()
	return nil
}

// StartAutosave starts the periodic autosave (through the bridge, on the UI
// goroutine). Close stops it.
func (s *Studio) StartAutosave() {
	if s.stopTicker != nil || s.opts.DataDir == "" {
		return
	}
	stop := make(chan struct{})
	s.stopTicker = stop
	go func() {
		t := time.NewTicker(s.opts.AutosaveEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.bridge.post(s.autosave)
			}
		}
	}()
}

func newRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return time.Now().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

var errAlreadyRunning = errors.New("a run is in progress")
