package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2/lang"

	"deskbot/engine"
)

// maxOutput bounds the Output tab.
const maxOutput = 20000

// Running reports whether a run is in progress.
func (s *Studio) Running() bool { return s.run != nil }

// Run starts the flow in the background; debug makes it stop at
// breakpoints. While a run is paused, Run and Debug resume it.
func (s *Studio) Run(debug bool) {
	if s.run != nil {
		if s.run.paused != "" {
			s.run.ctl.Resume()
		}
		return
	}
	if err := s.startRun(debug, false); err != nil {
		s.setStatus(err.Error())
	}
}

// Step executes one node: it starts a debug run paused before the first
// node, steps a paused run, or pauses a running one.
func (s *Studio) Step() {
	if s.run == nil {
		if err := s.startRun(true, true); err != nil {
			s.setStatus(err.Error())
		}
		return
	}
	if s.run.paused != "" {
		s.run.ctl.Step()
	} else {
		s.run.ctl.Pause()
	}
}

// Stop cancels the run in progress.
func (s *Studio) Stop() {
	if s.run != nil {
		s.run.cancel(engine.ErrStoppedByUser)
		s.setStatus(lang.L("Stopping…"))
	}
}

// RunDone returns a channel closed when the current run's goroutine has
// ended (nil when no run is in progress).
func (s *Studio) RunDone() <-chan struct{} {
	if s.run == nil {
		return nil
	}
	return s.run.done
}

func (s *Studio) startRun(debug, paused bool) error {
	if s.run != nil {
		return errAlreadyRunning
	}
	flow := s.Doc.Flow.Clone()
	runID := newRunID()
	ctx, cancel := context.WithCancelCause(context.Background())
	ctl := engine.NewControl()
	if debug {
		for id := range s.Canvas.Breakpoints {
			ctl.SetBreakpoint(id, true)
		}
	}
	if paused {
		ctl.Pause()
	}
	r := &activeRun{id: runID, cancel: cancel, ctl: ctl, debug: debug, started: time.Now(), done: make(chan struct{})}
	opts := engine.Options{
		Registry: s.reg,
		Control:  ctl,
		BaseDir:  s.baseDir(),
		RunID:    runID,
	}
	if s.opts.Prepare != nil {
		if err := s.opts.Prepare(ctx, cancel, &opts); err != nil {
			cancel(err)
			return fmt.Errorf("%s: %w", lang.L("prepare the run"), err)
		}
	}
	// The run's dialogs (dialog.confirm and the others) show here.
	engine.UseDialogs(&opts, &studioDialogs{s: s})
	s.clearOutput()
	s.nodeNames = nil
	obs := engine.Observers{s.bridge}
	if opts.Observer != nil { // one that Prepare added
		obs = append(obs, opts.Observer)
	}
	var finish func(*engine.Result, error)
	if s.opts.Recorder != nil {
		o, fin, err := s.opts.Recorder(ctx, flow, s.Doc.Path, runID)
		if err != nil {
			s.appendOutput(outLine{Level: "warn", Text: fmt.Sprintf("%s: %v", lang.L("run history is not recorded"), err)})
		} else {
			obs = append(obs, o)
			finish = fin
		}
	}
	opts.Observer = obs
	s.run = r
	s.Output.Refresh()
	s.appendOutput(outLine{Text: fmt.Sprintf("▶ %s %s (%s)", lang.L("run"), runID, flow.Name)})
	s.Canvas.Highlights = nil
	s.Canvas.ClearNodeStates()
	s.Tabs.SelectIndex(0)
	s.setStatus(lang.L("Running…"))
	s.updateButtons()
	b := s.bridge
	var minimize func() (func(), error)
	if !debug && !paused && s.opts.Minimize != nil && s.App.Preferences().Bool(PrefMinimize) {
		title := s.Win.Title()
		minimize = func() (func(), error) { return s.opts.Minimize(title) }
	}
	go func() {
		defer close(r.done)
		if minimize != nil {
			// Out of the bot's way; back when the run has ended.
			restore, err := minimize()
			if err != nil {
				b.Event(engine.Event{Kind: engine.EventLog, Time: time.Now(), Level: "warn", Message: lang.L("could not minimize the studio") + ": " + err.Error()})
			} else if restore != nil {
				defer restore()
			}
		}
		// The run's context ends with the run, so that services that
		// Prepare set up (the desktop's failsafe watcher, its stop hotkey,
		// loaded models) let go.
		defer cancel(nil)
		res, err := engine.Run(ctx, flow, opts)
		if finish != nil {
			finish(res, err)
		}
		b.finish(res, err)
	}()
	return nil
}

// ShowLoadProgress reports, from any goroutine, how far the loading of a
// model (what, e.g. "gpt2") has come: the status bar shows "Loading gpt2:
// 45%" while a run waits for it, and "Running…" once it is loaded.
func (s *Studio) ShowLoadProgress(what string, done, total int64) {
	pct := int64(100)
	if total > 0 {
		pct = done * 100 / total
	}
	s.loadMu.Lock()
	same := what == s.loadWhat && pct == s.loadPct
	s.loadWhat, s.loadPct = what, pct
	s.loadMu.Unlock()
	if same {
		return
	}
	msg := fmt.Sprintf(lang.L("Loading %s: %d%%"), what, pct)
	if pct >= 100 {
		msg = lang.L("Running…")
	}
	s.bridge.progress(msg)
}

// applyBatch shows what a run did since the last batch; it runs on the UI
// goroutine, called by the bridge.
func (s *Studio) applyBatch(b *runBatch) {
	r := s.run
	s.Canvas.SetRunningSeq(b.started)
	if r != nil {
		r.steps += len(b.started)
	}
	lines := make([]outLine, 0, len(b.logs)+1)
	for _, e := range b.logs {
		lines = append(lines, eventLine(e))
		if e.Kind == engine.EventStepFinished && e.Status == engine.StatusFailed && e.Depth == 0 {
			s.markFailed(e)
		}
	}
	if b.droppedLogs > 0 {
		lines = append(lines, outLine{Level: "warn", Text: fmt.Sprintf("… %d %s", b.droppedLogs, lang.L("more log lines not shown"))})
	}
	s.appendOutput(lines...)
	if b.progress != "" && r != nil && r.paused == "" {
		s.setStatus(b.progress)
	}
	if b.vars != nil {
		s.setVars(b.vars)
	}
	if r != nil {
		if b.resumed && b.paused == "" {
			r.paused = ""
			s.setStatus(lang.L("Running…"))
			s.Vars.Refresh() // no longer editable
		}
		if b.paused != "" {
			r.paused = b.paused
			s.Vars.Refresh() // editable
			s.Canvas.SetRunning(b.paused)
			s.setStatus(fmt.Sprintf(lang.L("Paused before %s — Step (F10) or Run (F5)"), s.nodeName(b.paused, "", "")))
			s.Tabs.SelectIndex(1)
		}
	}
	if b.done {
		s.runEnded(b.result, b.err)
	}
	s.updateButtons()
}

func (s *Studio) runEnded(res *engine.Result, err error) {
	r := s.run
	s.run = nil
	s.Canvas.SetRunning("")
	defer s.Vars.Refresh() // no longer editable
	dur := time.Duration(0)
	if r != nil {
		dur = time.Since(r.started).Round(time.Millisecond)
	}
	status := engine.StatusOK
	if res != nil && res.Status != "" {
		status = res.Status
	}
	if err != nil {
		if errors.Is(err, engine.ErrStoppedByUser) {
			status = engine.StatusStopped
		} else if status == engine.StatusOK {
			status = engine.StatusFailed
		}
	}
	msg := fmt.Sprintf("■ %s: %s (%s)", lang.L("run finished"), tr("status."+status, status), humanDur(dur))
	if err != nil && status == engine.StatusStopped && !errors.Is(err, context.Canceled) && err.Error() != engine.ErrStoppedByUser.Error() {
		msg += ": " + err.Error() // why: the stop hotkey, the failsafe corner
	}
	if err != nil && status != engine.StatusStopped {
		msg += ": " + err.Error()
		var se *engine.StepError
		if errors.As(err, &se) && s.Doc.Flow.Node(se.NodeID) != nil {
			s.Canvas.Select(se.NodeID)
		}
	}
	lvl := "info"
	switch status {
	case engine.StatusFailed:
		lvl = "error"
	case engine.StatusStopped, engine.StatusCancelled:
		lvl = "warn"
	}
	s.appendOutput(outLine{Level: lvl, Text: msg})
	s.setStatus(msg)
	if status == engine.StatusFailed {
		s.showFailure(err)
	}
	if err != nil && (res == nil || res.Steps == 0) && engine.HasErrors(s.Problems) {
		s.Tabs.SelectIndex(2) // the flow did not start: show why
	}
	if s.history != nil {
		s.history.Reload()
	}
	if s.insights != nil {
		s.insights.RunEnded()
	}
}

func (s *Studio) updateButtons() {
	s.refreshCommands()
}

func (s *Studio) clearOutput() {
	s.outLines = s.outLines[:0]
	s.resetOutHeights()
}

// resetOutHeights forgets the wrapped heights of lines (their ids moved).
func (s *Studio) resetOutHeights() {
	for id := range s.outHeights {
		h := float32(0)
		if id < len(s.outLines) {
			h = s.outHeight(s.lineText(id))
		} else {
			h = s.outHeight("")
		}
		s.Output.SetItemHeight(id, h)
	}
	s.outHeights = map[int]float32{}
}

func (s *Studio) appendOutput(lines ...outLine) {
	if len(lines) == 0 {
		return
	}
	s.outLines = append(s.outLines, lines...)
	if len(s.outLines) > maxOutput {
		s.outLines = append(s.outLines[:0], s.outLines[len(s.outLines)-maxOutput*3/4:]...)
		s.resetOutHeights()
	}
	s.Output.Refresh()
	s.Output.ScrollToBottom()
}

func (s *Studio) setVars(v map[string]any) {
	s.varVals = v
	s.Vars.Set(v)
}

// Variables returns the variables last shown.
func (s *Studio) Variables() map[string]any { return s.varVals }

// OutputLines returns the Output tab's lines.
func (s *Studio) OutputLines() []string {
	out := make([]string, len(s.outLines))
	for i := range s.outLines {
		out[i] = s.lineText(i)
	}
	return out
}

// OutputLevels returns the level of each Output line ("info", "warn",
// "error").
func (s *Studio) OutputLevels() []string {
	out := make([]string, len(s.outLines))
	for i, l := range s.outLines {
		out[i] = l.Level
	}
	return out
}

// shortValue renders a variable value on one line.
func shortValue(v any) string {
	var t string
	switch x := v.(type) {
	case string:
		t = fmt.Sprintf("%q", x)
	case nil:
		t = "nil"
	default:
		b, err := json.Marshal(x)
		if err != nil {
			t = fmt.Sprint(x)
		} else {
			t = string(b)
		}
	}
	if len(t) > 300 {
		t = t[:300] + "…"
	}
	return t
}
