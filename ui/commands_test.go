package ui

import (
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// allMenuItems flattens the main menu.
func allMenuItems(m *fyne.MainMenu) []*fyne.MenuItem {
	var out []*fyne.MenuItem
	var walk func(items []*fyne.MenuItem)
	walk = func(items []*fyne.MenuItem) {
		for _, it := range items {
			out = append(out, it)
			if it.ChildMenu != nil {
				walk(it.ChildMenu.Items)
			}
		}
	}
	for _, mm := range m.Items {
		walk(mm.Items)
	}
	return out
}

// TestEveryShortcutIsRegisteredAndListed presses every shortcut of the
// table the way fyne's desktop driver delivers it (ctrl+letter as a
// shortcut on the window's canvas, F-keys and Esc as typed keys with the
// modifiers held) and checks that it runs its command, that the menu shows
// it and that Help › Keyboard shortcuts lists it.
func TestEveryShortcutIsRegisteredAndListed(t *testing.T) {
	s, _ := newTestStudio(t)
	ran := map[string]int{}
	for _, c := range s.Commands() {
		id := c.ID
		c.Run = func() { ran[id]++ }
		c.Enabled = nil
	}
	var mods fyne.KeyModifier
	s.keyMods = func() fyne.KeyModifier { return mods }
	s.run = &activeRun{} // Esc stops only a run
	sh := s.Win.Canvas().(fyne.Shortcutable)
	list := s.ShortcutList()
	menu := allMenuItems(s.Win.MainMenu())
	n := 0
	for _, c := range s.Commands() {
		for i, sc := range c.Shortcuts {
			before := ran[c.ID]
			cs, custom := sc.(*desktop.CustomShortcut)
			if custom && cs.Modifier&^fyne.KeyModifierShift == 0 {
				mods = cs.Modifier
				s.Win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: cs.KeyName})
				mods = 0
			} else {
				sh.TypedShortcut(sc)
			}
			if ran[c.ID] != before+1 {
				t.Errorf("%s: %s ran it %d times", c.ID, ShortcutText(sc), ran[c.ID]-before)
			}
			n++
			listed := false
			for _, r := range list {
				listed = listed || (strings.Contains(r[0], strings.TrimSuffix(c.Label, "…")) && strings.Contains(r[1], ShortcutText(sc)))
			}
			if !listed {
				t.Errorf("%s: %s is not in Help › Keyboard shortcuts %v", c.ID, ShortcutText(sc), list)
			}
			if i == 0 {
				found := false
				for _, it := range menu {
					found = found || (it.Label == c.Label && it.Shortcut == sc)
				}
				if !found {
					t.Errorf("%s: no menu item %q with %s", c.ID, c.Label, ShortcutText(sc))
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d shortcuts in the table", n)
	}
	// the toolbar's hints come from the same table
	if b := s.buttons["run"]; b == nil {
		t.Fatal("no Run button")
	}
	if got := s.Command("redo").hint(); got != "Redo — Ctrl+Shift+Z / Ctrl+Y" {
		t.Errorf("redo hint %q", got)
	}
	if got := s.Command("stop").hint(); got != "Stop — Shift+F5 / Escape" {
		t.Errorf("stop hint %q", got)
	}
}

// TestStandardShortcutsEditTheFlow sends the standard shortcuts fyne's
// desktop driver makes of ctrl+a, ctrl+c, ctrl+v, ctrl+z and ctrl+y (which
// custom ctrl+letter shortcuts never matched) with the flow canvas focused.
func TestStandardShortcutsEditTheFlow(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.log", fyne.NewPos(400, 200))
	s.Win.Canvas().Focus(s.Canvas)
	sh := s.Win.Canvas().(fyne.Shortcutable)
	sh.TypedShortcut(&fyne.ShortcutSelectAll{})
	if got := len(s.Canvas.Selection()); got != 2 {
		t.Fatalf("ctrl+a selected %d nodes, want 2", got)
	}
	sh.TypedShortcut(&fyne.ShortcutCopy{Clipboard: s.App.Clipboard()})
	if !strings.Contains(s.App.Clipboard().Content(), "control.log") {
		t.Fatalf("ctrl+c put %q on the clipboard", s.App.Clipboard().Content())
	}
	sh.TypedShortcut(&fyne.ShortcutPaste{Clipboard: s.App.Clipboard()})
	if got := len(s.Doc.Flow.Nodes); got != 3 {
		t.Fatalf("after ctrl+v %d nodes, want 3", got)
	}
	sh.TypedShortcut(&fyne.ShortcutUndo{})
	if got := len(s.Doc.Flow.Nodes); got != 2 {
		t.Fatalf("after ctrl+z %d nodes, want 2", got)
	}
	sh.TypedShortcut(&fyne.ShortcutRedo{})
	if got := len(s.Doc.Flow.Nodes); got != 3 {
		t.Fatalf("after ctrl+y %d nodes, want 3", got)
	}
}

// TestTextFieldKeepsItsShortcuts: while a text field has the focus, the
// main menu's Select all, Copy and Paste (which fyne's driver runs first
// for ctrl+a, ctrl+c, ctrl+v) act on the field, not on the flow.
func TestTextFieldKeepsItsShortcuts(t *testing.T) {
	s, _ := newTestStudio(t)
	dragPalette(t, s, "control.log", fyne.NewPos(400, 200))
	e := widget.NewEntry()
	s.Win.SetContent(e)
	s.Win.Canvas().Focus(e)
	test.Type(e, "hello")
	s.Canvas.Select()
	s.menuItems["selectall"].Action()
	if e.SelectedText() != "hello" || len(s.Canvas.Selection()) != 0 {
		t.Fatalf("Select all: field selection %q, flow selection %v", e.SelectedText(), s.Canvas.Selection())
	}
	s.menuItems["copy"].Action()
	if got := s.App.Clipboard().Content(); got != "hello" {
		t.Fatalf("Copy put %q on the clipboard", got)
	}
	s.menuItems["paste"].Action()
	s.menuItems["paste"].Action()
	if e.Text != "hellohello" || len(s.Doc.Flow.Nodes) != 2 {
		t.Fatalf("Paste: field %q, %d nodes", e.Text, len(s.Doc.Flow.Nodes))
	}
	s.menuItems["undo"].Action()
	if len(s.Doc.Flow.Nodes) != 2 {
		t.Fatalf("Undo in a field undid a flow edit: %d nodes", len(s.Doc.Flow.Nodes))
	}
}

// TestCommandsFollowRunState: Stop is off until a run starts; Run and
// Debug are off while it runs; the menu follows.
func TestCommandsFollowRunState(t *testing.T) {
	s, _ := newTestStudio(t)
	if !s.buttons["stop"].Disabled() || !s.menuItems["stop"].Disabled || s.buttons["run"].Disabled() {
		t.Fatal("idle: Stop should be off and Run on")
	}
	s.run = &activeRun{}
	s.updateButtons()
	if s.buttons["stop"].Disabled() || s.menuItems["stop"].Disabled || !s.buttons["run"].Disabled() || !s.menuItems["run"].Disabled {
		t.Fatal("running: Stop should be on and Run off")
	}
	s.run = nil
	s.updateButtons()
}

// TestThemeSwitchIsSavedAndApplied switches to dark and light and starts a
// second studio on the same preferences.
func TestThemeSwitchIsSavedAndApplied(t *testing.T) {
	s, _ := newTestStudio(t)
	bg := func() color.Color {
		return s.App.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight)
	}
	dark := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark)
	light := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantLight)
	s.SetTheme("dark")
	if s.App.Preferences().String(PrefTheme) != "dark" || bg() != dark {
		t.Fatalf("dark: preference %q, background %v", s.App.Preferences().String(PrefTheme), bg())
	}
	var themeMenu *fyne.MenuItem
	for _, it := range allMenuItems(s.Win.MainMenu()) {
		if it.Label == "Theme" {
			themeMenu = it
		}
	}
	if themeMenu == nil || !themeMenu.ChildMenu.Items[2].Checked || themeMenu.ChildMenu.Items[0].Checked {
		t.Fatal("View › Theme does not check Dark")
	}
	themeMenu.ChildMenu.Items[1].Action() // Light
	if s.App.Preferences().String(PrefTheme) != "light" || s.App.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantDark) != light {
		t.Fatal("Light did not apply")
	}
	s.App.Preferences().SetString(PrefTheme, "dark")
	NewStudio(s.App, Options{})
	if bg() != dark {
		t.Fatal("a new studio does not take the saved theme")
	}
	s.SetTheme("")
	if s.App.Preferences().String(PrefTheme) != "" {
		t.Fatal("System did not clear the preference")
	}
}

// TestHelpMenu: the activity reference window, the shortcut list and About
// with the version.
func TestHelpMenu(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	s := NewStudio(a, Options{DataDir: t.TempDir(), Version: "deskbot 9.8.7 (commit abc)"})
	var help *fyne.Menu
	for _, m := range s.Win.MainMenu().Items {
		if m.Label == "Help" {
			help = m
		}
	}
	if help == nil {
		t.Fatal("no Help menu")
	}
	var labels []string
	for _, it := range help.Items {
		labels = append(labels, it.Label)
	}
	if got := strings.Join(labels, ","); got != "Activity reference,Keyboard shortcuts,,About Deskbot" {
		t.Fatalf("Help menu %q", got)
	}
	// works on the start page too
	help.Items[0].Action()
	var ref fyne.Window
	for _, w := range a.Driver().AllWindows() {
		if strings.Contains(w.Title(), "Activity reference") {
			ref = w
		}
	}
	if ref == nil {
		t.Fatal("no reference window")
	}
	rt := ref.Content().(*container.Scroll).Content.(*widget.RichText)
	if txt := rt.String(); !strings.Contains(txt, "control.log") || !strings.Contains(txt, "file.read_csv") {
		t.Fatalf("reference lacks activities: %.200s", txt)
	}
	help.Items[0].Action() // a second time: the same window
	n := 0
	for _, w := range a.Driver().AllWindows() {
		if strings.Contains(w.Title(), "Activity reference") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d reference windows", n)
	}
	help.Items[1].Action()
	if txt := strings.Join(overlayTexts(s.Win.Canvas().Overlays().Top()), "\n"); !strings.Contains(txt, "Ctrl+Shift+Z / Ctrl+Y") || !strings.Contains(txt, "Shift+F5") {
		t.Fatalf("shortcut list: %s", txt)
	}
	s.Win.Canvas().Overlays().Top().Hide()
	help.Items[3].Action()
	if txt := strings.Join(overlayTexts(s.Win.Canvas().Overlays().Top()), "\n"); !strings.Contains(txt, "deskbot 9.8.7 (commit abc)") {
		t.Fatalf("About: %s", txt)
	}
}

// TestBrokenFileOpensWithErrorDialog: a flow file with a JSON error
// leaves the studio on the start page with a dialog naming the line and
// column (what `deskbot broken.json` does).
func TestBrokenFileOpensWithErrorDialog(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	s := NewStudio(a, Options{})
	s.Win.Resize(fyne.NewSize(1000, 700))
	p := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(p, []byte("{\n  \"format\": \"deskbot.flow\",\n  \"nodes\": [,]\n}"), 0o644)
	err := s.OpenFile(p)
	if err == nil {
		t.Fatal("a broken file opened")
	}
	s.ShowOpenError(p, err)
	top := s.Win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog")
	}
	txt := strings.Join(overlayTexts(top), "\n")
	if !strings.Contains(txt, "line 3, column 13") || !strings.Contains(txt, "broken.json") {
		t.Fatalf("dialog text %q", txt)
	}
	if !s.onStart {
		t.Fatal("not on the start page")
	}
	var se *engine.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %T is no SyntaxError", err)
	}
}

// TestRunSettingsDialog edits the delay and slow motion as one undoable
// edit and refuses a bad delay.
func TestRunSettingsDialog(t *testing.T) {
	s, _ := newTestStudio(t)
	s.Command("runsettings").Run()
	f := s.runSettings
	if f == nil {
		t.Fatal("no run settings dialog")
	}
	if f.delay.Text != "" || f.slow.Checked {
		t.Fatalf("new flow: delay %q, slow %v", f.delay.Text, f.slow.Checked)
	}
	test.Type(f.delay, "abc")
	if f.delay.Validate() == nil {
		t.Fatal("delay abc accepted")
	}
	f.delay.SetText("250ms")
	f.slow.SetChecked(true)
	if err := f.delay.Validate(); err != nil {
		t.Fatal(err)
	}
	f.dlg.Submit()
	st := s.Doc.Flow.Settings
	if st.ActionDelay == nil || time.Duration(*st.ActionDelay) != 250*time.Millisecond || !st.SlowMotion || !s.Doc.Dirty() {
		t.Fatalf("settings after OK: %+v", st)
	}
	if s.runSettings != nil {
		t.Fatal("the dialog is still open")
	}
	// it opens with the flow's values; clearing the delay is the default
	s.ShowRunSettings()
	if s.runSettings.delay.Text != "250ms" || !s.runSettings.slow.Checked {
		t.Fatalf("reopened: %q %v", s.runSettings.delay.Text, s.runSettings.slow.Checked)
	}
	s.runSettings.delay.SetText("")
	s.runSettings.dlg.Submit()
	if s.Doc.Flow.Settings.ActionDelay != nil || s.Doc.Flow.Settings.Delay() != engine.DefaultActionDelay {
		t.Fatalf("cleared delay: %v", s.Doc.Flow.Settings.ActionDelay)
	}
	s.Undo()
	if d := s.Doc.Flow.Settings.Delay(); d != 250*time.Millisecond {
		t.Fatalf("undo: delay %v", d)
	}
	s.Undo()
	if st := s.Doc.Flow.Settings; st.ActionDelay != nil || st.SlowMotion {
		t.Fatalf("undo twice: %+v", st)
	}
}

// TestFileDialogsAreLarge: Open and Save As take most of the window.
func TestFileDialogsAreLarge(t *testing.T) {
	s, _ := newTestStudio(t)
	for _, open := range []func(){s.OpenDialog, func() { s.SaveAs(nil) }} {
		open()
		top := s.Win.Canvas().Overlays().Top()
		if top == nil {
			t.Fatal("no dialog")
		}
		if sz := top.(*widget.PopUp).Content.Size(); sz.Width < 800 || sz.Height < 560 {
			t.Errorf("dialog is %v", sz)
		}
		top.Hide()
		s.Win.Canvas().Overlays().Remove(top)
	}
}

// TestTypedPathInFileDialogs: with the Open or Save dialog showing, ctrl+L
// takes a typed path (relative to the flow's folder, "~/", without
// ".json"), and a bad one says why and stays.
func TestTypedPathInFileDialogs(t *testing.T) {
	s, _ := newTestStudio(t)
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	if err := s.SaveTo(filepath.Join(dir, "first.json")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	other := engine.NewFlow("Other flow")
	if err := other.Save(filepath.Join(dir, "sub", "other.json")); err != nil {
		t.Fatal(err)
	}
	ctrlL := s.Win.Canvas().(fyne.Shortcutable)
	s.OpenDialog()
	if s.fileTarget == nil || s.fileTarget.save {
		t.Fatal("the Open dialog is not the typed path's target")
	}
	ctrlL.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault})
	if s.pathBox == nil {
		t.Fatal("ctrl+L shows no path box")
	}
	test.Type(s.pathBox.entry, "sub/missing")
	s.pathBox.entry.OnSubmitted(s.pathBox.entry.Text)
	if s.pathBox == nil || !s.pathBox.msg.Visible() || !strings.Contains(s.pathBox.msg.Text, "missing.json") {
		t.Fatal("a missing file does not say so")
	}
	s.pathBox.entry.SetText("sub/other")
	s.pathBox.entry.OnSubmitted(s.pathBox.entry.Text)
	if s.Doc.Path != filepath.Join(dir, "sub", "other.json") || s.Doc.Flow.Name != "Other flow" {
		t.Fatalf("opened %q", s.Doc.Path)
	}
	if s.pathBox != nil || s.fileTarget != nil || s.Win.Canvas().Overlays().Top() != nil {
		t.Fatal("dialogs still open after opening")
	}

	s.SaveAs(nil)
	if s.fileTarget == nil || !s.fileTarget.save {
		t.Fatal("the Save dialog is not the typed path's target")
	}
	ctrlL.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault})
	s.pathBox.entry.SetText("/no/such/folder/x")
	s.pathBox.entry.OnSubmitted(s.pathBox.entry.Text)
	if s.pathBox == nil || !s.pathBox.msg.Visible() {
		t.Fatal("saving into a missing folder does not say why")
	}
	os.MkdirAll(filepath.Join(dir, "keep"), 0o755)
	s.pathBox.entry.SetText("~/keep/copy")
	s.pathBox.entry.OnSubmitted(s.pathBox.entry.Text)
	want := filepath.Join(dir, "keep", "copy.json")
	if g, err := engine.LoadFile(want); err != nil || g.Name != "Other flow" || s.Doc.Path != want {
		t.Fatalf("saved to %q: %v", s.Doc.Path, err)
	}
	if s.Win.Canvas().Overlays().Top() != nil {
		t.Fatal("dialogs still open after saving")
	}
}

// FuzzParseDelay: any text in the delay field gives a delay from 0 to a
// minute, the default, or an error; never a panic.
func FuzzParseDelay(f *testing.F) {
	for _, s := range []string{"", "250ms", "1s", "-1s", "2m", "abc", " 3ms ", "9223372036854775807ns", "1e9h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDelay(s)
		if err != nil {
			if d != nil {
				t.Fatalf("%q: error %v with a delay", s, err)
			}
			return
		}
		if d != nil && (*d < 0 || time.Duration(*d) > time.Minute) {
			t.Fatalf("%q: delay %v", s, time.Duration(*d))
		}
	})
}
