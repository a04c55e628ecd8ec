package ui

import (
	"testing"

	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// The flow settings form shows the run history's detail level next to the
// default timeout, and choosing one sets settings.history ("full", the
// default, is stored as no setting).
func TestFlowSettingsHistoryLevel(t *testing.T) {
	s, _ := newTestStudio(t)
	sel, ok := s.Props.Fields["flow.history"].(*widget.Select)
	if !ok {
		t.Fatalf("flow.history field is %T", s.Props.Fields["flow.history"])
	}
	if sel.Selected != engine.HistoryFull || len(sel.Options) != len(engine.HistoryLevels) {
		t.Fatalf("history select shows %q of %v", sel.Selected, sel.Options)
	}
	sel.SetSelected(engine.HistoryErrors)
	if got := s.Doc.Flow.Settings.History; got != engine.HistoryErrors {
		t.Fatalf("settings.history = %q, want errors", got)
	}
	doc, err := s.Doc.Flow.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f, err := engine.Parse(doc)
	if err != nil || f.Settings.History != engine.HistoryErrors {
		t.Fatalf("saved flow: history %q, %v", f.Settings.History, err)
	}
	sel = s.Props.Fields["flow.history"].(*widget.Select)
	sel.SetSelected(engine.HistoryFull)
	if got := s.Doc.Flow.Settings.History; got != "" {
		t.Fatalf("settings.history = %q after choosing full, want none", got)
	}
}
