package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestModelSettingsDialog: Run › Local model… shows the default thread
// count (the physical cores, from the options), refuses a bad count, and
// OK saves threads and quantisation in the preferences and hands them to
// OnLocalModel (the app passes them to the runs' model loader).
func TestModelSettingsDialog(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	var got []LocalModel
	s := NewStudio(a, Options{DataDir: t.TempDir(), LocalThreads: 6, Quants: []string{"q8", "q4"},
		OnLocalModel: func(lm LocalModel) { got = append(got, lm) }})
	s.Win.Resize(fyne.NewSize(1280, 800))
	if len(got) != 1 || got[0] != (LocalModel{}) {
		t.Fatalf("at start OnLocalModel got %+v, want the defaults once", got)
	}
	s.Command("modelsettings").Run()
	f := s.modelSettings
	if f == nil {
		t.Fatal("no local model dialog")
	}
	if f.threads.Text != "" || !strings.HasPrefix(f.threads.PlaceHolder, "6 ") || f.quant.SelectedIndex() != 0 {
		t.Fatalf("defaults: threads %q placeholder %q quant %d", f.threads.Text, f.threads.PlaceHolder, f.quant.SelectedIndex())
	}
	for _, bad := range []string{"abc", "-1", "1000"} {
		f.threads.SetText("")
		test.Type(f.threads, bad)
		if f.threads.Validate() == nil {
			t.Fatalf("threads %q accepted", bad)
		}
	}
	f.threads.SetText("1")
	f.quant.SetSelected("q4")
	f.dlg.Submit()
	want := LocalModel{Threads: 1, Quant: "q4"}
	if len(got) != 2 || got[1] != want || s.LocalModel() != want {
		t.Fatalf("after OK: OnLocalModel %+v, LocalModel %+v", got, s.LocalModel())
	}
	if s.modelSettings != nil {
		t.Fatal("the dialog is still open")
	}
	// Reopened it shows the saved values; empty threads is the default.
	s.ShowModelSettings()
	if s.modelSettings.threads.Text != "1" || s.modelSettings.quant.Selected != "q4" {
		t.Fatalf("reopened: %q %q", s.modelSettings.threads.Text, s.modelSettings.quant.Selected)
	}
	s.modelSettings.threads.SetText("")
	s.modelSettings.quant.SetSelectedIndex(0)
	s.modelSettings.dlg.Submit()
	if s.LocalModel() != (LocalModel{}) {
		t.Fatalf("back to defaults: %+v", s.LocalModel())
	}
	// A quantisation this build does not know is ignored.
	a.Preferences().SetString(PrefModelQuant, "q3")
	if s.LocalModel().Quant != "" {
		t.Fatal("unknown quant kept")
	}
}
