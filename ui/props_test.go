package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"deskbot/engine"
)

// Validation messages move no field: every field is where it was before
// the messages showed (two clicks of ours landed on a help label that had
// pushed a field down).
func TestValidationMovesNoField(t *testing.T) {
	s, _ := newTestStudio(t)
	s.setDocument(NewDocument(quickFlow(), ""))
	for _, id := range []string{"b", "w"} {
		s.Props.Show(s.Doc, id, nil)
		s.Props.box.Refresh()
		d := s.App.Driver()
		positions := func() map[string]fyne.Position {
			out := map[string]fyne.Position{}
			for name, o := range s.Props.Fields {
				if o.Visible() && o.Size().Height > 0 {
					out[name] = d.AbsolutePositionForObject(o)
				}
			}
			return out
		}
		before := positions()
		if len(before) < 2 {
			t.Fatalf("%s: only %d fields laid out", id, len(before))
		}
		long := strings.Repeat("this value is not what the field wants ", 8)
		var probs []engine.Problem
		for name := range s.Props.Fields {
			probs = append(probs, engine.Problem{NodeID: id, Field: name, Msg: long})
		}
		probs = append(probs, engine.Problem{NodeID: id, Msg: "the node is not connected"})
		s.Props.SetProblems(probs)
		s.Props.box.Refresh()
		shown := 0
		for _, l := range s.Props.errs {
			if l.Visible() && l.Text != "" {
				shown++
			}
		}
		if shown < 3 {
			t.Fatalf("%s: only %d messages shown", id, shown)
		}
		after := positions()
		for name, p := range before {
			if after[name] != p {
				t.Errorf("%s: field %s moved from %v to %v when messages showed", id, name, p, after[name])
			}
		}
		s.Props.SetProblems(nil)
		s.Props.box.Refresh()
		for name, p := range positions() {
			if before[name] != p {
				t.Errorf("%s: field %s at %v after the messages went, was %v", id, name, p, before[name])
			}
		}
	}
}
