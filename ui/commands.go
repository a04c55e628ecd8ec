package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Command is one thing the user can do in the studio. The table of
// commands (Studio.commands) drives the toolbar, the menus, the keyboard
// shortcuts and the hints (toolbar tooltips and Help › Keyboard shortcuts):
// a command is declared once.
type Command struct {
	ID    string
	Label string // the menu's words, translated
	// Tool is the toolbar button's words; "" shows the icon alone.
	Tool string
	Icon fyne.Resource
	// Shortcuts are the keys that run the command; the first is shown in
	// menus and hints.
	Shortcuts []fyne.Shortcut
	Run       func()
	// Enabled says whether the command can run now; nil: always.
	Enabled func() bool
	// Text marks the standard editing commands (copy, paste, select all,
	// undo, redo): while a text field has the focus, the field gets the
	// key instead of the flow.
	Text bool
}

// shortcut keys of the studio. fyne's desktop driver turns ctrl+z, ctrl+y,
// ctrl+c, ctrl+v, ctrl+x and ctrl+a into its standard shortcuts
// (fyne.ShortcutUndo, ...) before anything else sees them, so those
// commands are bound to the standard ones; keys without ctrl, alt or super
// (F5, shift+F5, Esc, Delete) never become shortcuts and come through
// handleKey.
var (
	scNew      = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	scOpen     = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	scSave     = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	scSaveAs   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	scUndo     = &fyne.ShortcutUndo{}
	scRedo     = &desktop.CustomShortcut{KeyName: fyne.KeyZ, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	scRedoY    = &fyne.ShortcutRedo{}
	scRun      = &desktop.CustomShortcut{KeyName: fyne.KeyF5}
	scDebug    = &desktop.CustomShortcut{KeyName: fyne.KeyF6}
	scStep     = &desktop.CustomShortcut{KeyName: fyne.KeyF10}
	scStop     = &desktop.CustomShortcut{KeyName: fyne.KeyF5, Modifier: fyne.KeyModifierShift}
	scEsc      = &desktop.CustomShortcut{KeyName: fyne.KeyEscape}
	scBreak    = &desktop.CustomShortcut{KeyName: fyne.KeyF9}
	scCopy     = &fyne.ShortcutCopy{}
	scPaste    = &fyne.ShortcutPaste{}
	scDelete   = &desktop.CustomShortcut{KeyName: fyne.KeyDelete}
	scAll      = &fyne.ShortcutSelectAll{}
	scZoomIn   = &desktop.CustomShortcut{KeyName: fyne.KeyEqual, Modifier: fyne.KeyModifierShortcutDefault}
	scZoomOut  = &desktop.CustomShortcut{KeyName: fyne.KeyMinus, Modifier: fyne.KeyModifierShortcutDefault}
	scFit      = &desktop.CustomShortcut{KeyName: fyne.Key0, Modifier: fyne.KeyModifierShortcutDefault}
	scHelp     = &desktop.CustomShortcut{KeyName: fyne.KeyF1}
	scZoom100  = &desktop.CustomShortcut{KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault}
	scArrange  = &desktop.CustomShortcut{KeyName: fyne.KeyA, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	scFind     = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
	scGroup    = &desktop.CustomShortcut{KeyName: fyne.KeyG, Modifier: fyne.KeyModifierShortcutDefault}
	scTypePath = &desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault}
)

// commands builds the table of commands (once, in NewStudio).
func (s *Studio) commands() []*Command {
	idle := func() bool { return s.run == nil }
	canRun := func() bool { return s.run == nil || s.run.paused != "" }
	return []*Command{
		{ID: "new", Label: lang.L("New"), Tool: lang.L("New"), Icon: theme.DocumentCreateIcon(), Shortcuts: []fyne.Shortcut{scNew}, Run: s.New, Enabled: idle},
		{ID: "open", Label: lang.L("Open…"), Tool: lang.L("Open"), Icon: theme.FolderOpenIcon(), Shortcuts: []fyne.Shortcut{scOpen}, Run: s.OpenDialog, Enabled: idle},
		{ID: "save", Label: lang.L("Save"), Tool: lang.L("Save"), Icon: theme.DocumentSaveIcon(), Shortcuts: []fyne.Shortcut{scSave}, Run: func() { s.Save(nil) }},
		{ID: "saveas", Label: lang.L("Save As…"), Icon: theme.DocumentSaveIcon(), Shortcuts: []fyne.Shortcut{scSaveAs}, Run: func() { s.SaveAs(nil) }},
		{ID: "typepath", Label: lang.L("Type a path…"), Icon: theme.FileIcon(), Shortcuts: []fyne.Shortcut{scTypePath}, Run: s.TypePath},
		{ID: "startpage", Label: lang.L("Start page"), Icon: theme.HomeIcon(), Run: s.ShowStartPage, Enabled: idle},

		{ID: "undo", Label: lang.L("Undo"), Icon: theme.ContentUndoIcon(), Shortcuts: []fyne.Shortcut{scUndo}, Run: s.Undo, Text: true},
		{ID: "redo", Label: lang.L("Redo"), Icon: theme.ContentRedoIcon(), Shortcuts: []fyne.Shortcut{scRedo, scRedoY}, Run: s.Redo, Text: true},
		{ID: "copy", Label: lang.L("Copy"), Icon: theme.ContentCopyIcon(), Shortcuts: []fyne.Shortcut{scCopy}, Run: s.Copy, Text: true},
		{ID: "paste", Label: lang.L("Paste"), Icon: theme.ContentPasteIcon(), Shortcuts: []fyne.Shortcut{scPaste}, Run: s.Paste, Text: true},
		{ID: "delete", Label: lang.L("Delete"), Icon: theme.DeleteIcon(), Shortcuts: []fyne.Shortcut{scDelete}, Run: func() { s.Canvas.DeleteSelection() }},
		{ID: "selectall", Label: lang.L("Select all"), Shortcuts: []fyne.Shortcut{scAll}, Run: func() { s.Canvas.SelectAll() }, Text: true},

		{ID: "zoomin", Label: lang.L("Zoom in"), Icon: theme.ZoomInIcon(), Shortcuts: []fyne.Shortcut{scZoomIn}, Run: func() { s.Canvas.ZoomIn() }},
		{ID: "zoomout", Label: lang.L("Zoom out"), Icon: theme.ZoomOutIcon(), Shortcuts: []fyne.Shortcut{scZoomOut}, Run: func() { s.Canvas.ZoomOut() }},
		{ID: "zoomreset", Label: lang.L("Actual size (100%)"), Icon: theme.ViewRestoreIcon(), Shortcuts: []fyne.Shortcut{scZoom100}, Run: func() { s.Canvas.ZoomReset() }},
		{ID: "fit", Label: lang.L("Fit to view"), Icon: theme.ZoomFitIcon(), Shortcuts: []fyne.Shortcut{scFit}, Run: func() { s.Canvas.Fit() }},
		{ID: "arrange", Label: lang.L("Arrange"), Tool: lang.L("Arrange"), Icon: theme.ViewRefreshIcon(), Shortcuts: []fyne.Shortcut{scArrange}, Run: func() { s.Canvas.Arrange() }, Enabled: idle},
		{ID: "find", Label: lang.L("Find a node…"), Icon: theme.SearchIcon(), Shortcuts: []fyne.Shortcut{scFind}, Run: s.ShowFind},
		{ID: "note", Label: lang.L("Add a note"), Icon: theme.DocumentIcon(), Run: s.AddNote, Enabled: idle},
		{ID: "group", Label: lang.L("Group the selection"), Icon: theme.ListIcon(), Shortcuts: []fyne.Shortcut{scGroup}, Run: s.GroupSelection, Enabled: idle},

		{ID: "run", Label: lang.L("Run"), Tool: lang.L("Run"), Icon: theme.MediaPlayIcon(), Shortcuts: []fyne.Shortcut{scRun}, Run: func() { s.Run(false) }, Enabled: canRun},
		{ID: "debug", Label: lang.L("Debug"), Tool: lang.L("Debug"), Icon: theme.SearchIcon(), Shortcuts: []fyne.Shortcut{scDebug}, Run: func() { s.Run(true) }, Enabled: canRun},
		{ID: "step", Label: lang.L("Step"), Tool: lang.L("Step"), Icon: theme.MediaSkipNextIcon(), Shortcuts: []fyne.Shortcut{scStep}, Run: s.Step},
		{ID: "stop", Label: lang.L("Stop"), Tool: lang.L("Stop"), Icon: theme.MediaStopIcon(), Shortcuts: []fyne.Shortcut{scStop, scEsc}, Run: s.Stop, Enabled: s.Running},
		{ID: "breakpoint", Label: lang.L("Toggle breakpoint"), Icon: theme.RadioButtonCheckedIcon(), Shortcuts: []fyne.Shortcut{scBreak}, Run: s.ToggleBreakpoint},
		{ID: "runsettings", Label: lang.L("Run settings…"), Icon: theme.SettingsIcon(), Run: s.ShowRunSettings},
		{ID: "modelsettings", Label: lang.L("Local model…"), Icon: theme.ComputerIcon(), Run: s.ShowModelSettings},

		{ID: "reference", Label: lang.L("Activity reference"), Icon: theme.HelpIcon(), Shortcuts: []fyne.Shortcut{scHelp}, Run: s.ShowReference},
		{ID: "shortcuts", Label: lang.L("Keyboard shortcuts"), Icon: theme.ComputerIcon(), Run: s.ShowShortcuts},
		{ID: "about", Label: lang.L("About Deskbot"), Icon: theme.InfoIcon(), Run: s.ShowAbout},
	}
}

// Command returns the command id ("" and nil if there is none).
func (s *Studio) Command(id string) *Command {
	for _, c := range s.cmds {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// Commands returns the table of commands.
func (s *Studio) Commands() []*Command { return s.cmds }

// enabled says whether c can run now.
func (c *Command) enabled() bool { return c.Enabled == nil || c.Enabled() }

// exec runs command c as its shortcut sc would: a standard editing key goes
// to the focused text field, if one has the focus; a command does nothing
// on the start page or while disabled.
func (s *Studio) exec(c *Command, sc fyne.Shortcut) {
	if c.Text && sc != nil {
		if f, ok := s.Win.Canvas().Focused().(fyne.Shortcutable); ok && !s.isCanvas(f) {
			f.TypedShortcut(withClipboard(sc, s.App.Clipboard()))
			return
		}
	}
	if s.onStart && !onStartPage[c.ID] {
		return
	}
	if !c.enabled() {
		return
	}
	c.Run()
	s.writeDebugState()
}

// onStartPage lists the commands that work on the start page too.
var onStartPage = map[string]bool{"new": true, "open": true, "typepath": true, "reference": true, "shortcuts": true, "about": true}

func (s *Studio) isCanvas(f fyne.Shortcutable) bool {
	w, ok := f.(fyne.CanvasObject)
	return ok && w == fyne.CanvasObject(s.Canvas)
}

// withClipboard gives copy and paste shortcuts the app's clipboard (the
// table's shortcuts carry none).
func withClipboard(sc fyne.Shortcut, cb fyne.Clipboard) fyne.Shortcut {
	switch sc.(type) {
	case *fyne.ShortcutCopy:
		return &fyne.ShortcutCopy{Clipboard: cb}
	case *fyne.ShortcutPaste:
		return &fyne.ShortcutPaste{Clipboard: cb}
	case *fyne.ShortcutCut:
		return &fyne.ShortcutCut{Clipboard: cb}
	}
	return sc
}

// hint is the command's label and its shortcuts, for tooltips.
func (c *Command) hint() string {
	keys := c.keys()
	if keys == "" {
		return c.Label
	}
	return strings.TrimSuffix(c.Label, "…") + " — " + keys
}

// keys lists the command's shortcuts as text ("Ctrl+Shift+Z / Ctrl+Y").
func (c *Command) keys() string {
	var out []string
	for _, sc := range c.Shortcuts {
		out = append(out, ShortcutText(sc))
	}
	return strings.Join(out, " / ")
}

// ShortcutText writes a shortcut as users read it: "Ctrl+S", "Shift+F5".
func ShortcutText(sc fyne.Shortcut) string {
	ks, ok := sc.(fyne.KeyboardShortcut)
	if !ok {
		return sc.ShortcutName()
	}
	var parts []string
	m := ks.Mod()
	if m&fyne.KeyModifierShortcutDefault != 0 && fyne.KeyModifierShortcutDefault == fyne.KeyModifierSuper {
		parts = append(parts, "Cmd")
	} else if m&fyne.KeyModifierControl != 0 {
		parts = append(parts, "Ctrl")
	}
	if m&fyne.KeyModifierAlt != 0 {
		parts = append(parts, "Alt")
	}
	if m&fyne.KeyModifierShift != 0 {
		parts = append(parts, "Shift")
	}
	key := string(ks.Key())
	switch ks.Key() {
	case fyne.KeyEqual:
		key = "="
	case fyne.KeyMinus:
		key = "-"
	}
	return strings.Join(append(parts, key), "+")
}

// toolbarLayout lists the toolbar's commands; "" is a separator.
var toolbarLayout = []string{"new", "open", "save", "", "undo", "redo", "", "run", "debug", "step", "stop", "", "zoomout", "zoomin", "fit", "arrange"}

func (s *Studio) toolbar() fyne.CanvasObject {
	var objs []fyne.CanvasObject
	for _, id := range toolbarLayout {
		if id == "" {
			objs = append(objs, widget.NewSeparator())
			continue
		}
		c := s.Command(id)
		btn := &toolButton{hint: c.hint(), status: s.hoverStatus}
		btn.Text, btn.Icon = c.Tool, c.Icon
		btn.OnTapped = func() { s.exec(c, nil) }
		btn.ExtendBaseWidget(btn)
		btn.Importance = widget.LowImportance
		if id == "run" {
			btn.Importance = widget.HighImportance
		}
		s.buttons[id] = &btn.Button
		objs = append(objs, btn)
	}
	bar := container.NewHBox(objs...)
	return container.NewVBox(container.NewBorder(nil, nil, bar, nil, s.status), widget.NewSeparator())
}

// handleKey runs the commands on keys without ctrl, alt or super: fyne's
// desktop driver turns only those into shortcuts, so F5 and friends come
// here from the focused canvas or from the window.
func (s *Studio) handleKey(e *fyne.KeyEvent) {
	mod := s.keyModifiers() & fyne.KeyModifierShift
	for _, c := range s.cmds {
		for _, sc := range c.Shortcuts {
			cs, ok := sc.(*desktop.CustomShortcut)
			if !ok || cs.Modifier&^fyne.KeyModifierShift != 0 || cs.KeyName != e.Name || cs.Modifier != mod {
				continue
			}
			if c.ID == "stop" && e.Name == fyne.KeyEscape && !s.Running() {
				return // Esc is only Stop while a run is on
			}
			s.exec(c, sc)
			return
		}
	}
}

// keyModifiers are the modifier keys held now (tests replace it: fyne's
// test driver knows none).
func (s *Studio) keyModifiers() fyne.KeyModifier {
	if s.keyMods != nil {
		return s.keyMods()
	}
	if d, ok := s.App.Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()
	}
	return 0
}

// addShortcuts registers every command's shortcuts on the window's canvas.
func (s *Studio) addShortcuts() {
	s.Win.Canvas().SetOnTypedKey(s.handleKey)
	s.Canvas.OnKey = s.handleKey
	for _, c := range s.cmds {
		for _, sc := range c.Shortcuts {
			c, sc := c, sc
			s.Win.Canvas().AddShortcut(sc, func(fyne.Shortcut) { s.exec(c, sc) })
		}
	}
}

// contextItem is command id as an item of the canvas' context menu.
func (s *Studio) contextItem(id string) *fyne.MenuItem {
	c := s.Command(id)
	it := fyne.NewMenuItem(c.Label, func() { s.exec(c, nil) })
	it.Icon = c.Icon
	return it
}

// menuItem is command id as a menu item with its first shortcut.
func (s *Studio) menuItem(id string) *fyne.MenuItem {
	c := s.Command(id)
	it := fyne.NewMenuItem(c.Label, nil)
	var sc fyne.Shortcut
	if len(c.Shortcuts) > 0 {
		sc = c.Shortcuts[0]
		it.Shortcut = sc
	}
	it.Icon = c.Icon
	it.Action = func() { s.exec(c, sc) }
	s.menuItems[id] = it
	return it
}

func (s *Studio) menu() *fyne.MainMenu {
	items := func(ids ...string) []*fyne.MenuItem {
		var out []*fyne.MenuItem
		for _, id := range ids {
			if id == "" {
				out = append(out, fyne.NewMenuItemSeparator())
			} else {
				out = append(out, s.menuItem(id))
			}
		}
		return out
	}
	langItem := func(label, code string) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, func() {
			s.App.Preferences().SetString(PrefLanguage, code)
			dialog.ShowInformation(lang.L("Language"), lang.L("The language changes when Deskbot starts again."), s.Win)
		})
		it.Checked = s.App.Preferences().String(PrefLanguage) == code
		return it
	}
	language := fyne.NewMenuItem(lang.L("Language"), nil)
	language.ChildMenu = fyne.NewMenu("", langItem(lang.L("System"), ""), langItem("English", "en"), langItem("简体中文", "zh_Hans"))
	view := append(items("zoomin", "zoomout", "zoomreset", "fit", "", "arrange", "find", "note", "group", ""), s.themeMenuItem(), language)
	return fyne.NewMainMenu(
		fyne.NewMenu(lang.L("File"), items("new", "open", "typepath", "save", "saveas", "", "startpage")...),
		fyne.NewMenu(lang.L("Edit"), items("undo", "redo", "", "copy", "paste", "delete", "selectall")...),
		fyne.NewMenu(lang.L("View"), view...),
		fyne.NewMenu(lang.L("Run"), s.runMenuItems(items("run", "debug", "step", "stop", "", "breakpoint", "runsettings", "modelsettings")...)...),
		fyne.NewMenu(lang.L("Help"), items("reference", "shortcuts", "", "about")...),
	)
}

// refreshCommands enables and disables the toolbar buttons and menu items
// by their commands' Enabled.
func (s *Studio) refreshCommands() {
	changed := false
	for _, c := range s.cmds {
		on := c.enabled()
		if b := s.buttons[c.ID]; b != nil && b.Disabled() == on {
			if on {
				b.Enable()
			} else {
				b.Disable()
			}
		}
		if it := s.menuItems[c.ID]; it != nil && it.Disabled == on {
			it.Disabled = !on
			changed = true
		}
	}
	if changed && s.Win.MainMenu() != nil {
		s.Win.MainMenu().Refresh()
	}
}

// PrefMinimize is the preference key of "Minimize while running".
const PrefMinimize = "minimize_during_run"

// runMenuItems are the Run menu's items, with the "Minimize while
// running" switch when the program can minimize the window.
func (s *Studio) runMenuItems(items ...*fyne.MenuItem) []*fyne.MenuItem {
	if s.opts.Minimize == nil {
		return items
	}
	it := fyne.NewMenuItem(lang.L("Minimize while running"), nil)
	it.Checked = s.App.Preferences().Bool(PrefMinimize)
	it.Action = func() {
		on := !s.App.Preferences().Bool(PrefMinimize)
		s.App.Preferences().SetBool(PrefMinimize, on)
		it.Checked = on
		s.Win.MainMenu().Refresh()
	}
	return append(items, fyne.NewMenuItemSeparator(), it)
}

// ShortcutList is Help › Keyboard shortcuts: each command with a shortcut,
// as "label<TAB>keys", in the table's order, and the canvas' own keys.
func (s *Studio) ShortcutList() [][2]string {
	var out [][2]string
	for _, c := range s.cmds {
		if len(c.Shortcuts) > 0 {
			out = append(out, [2]string{strings.TrimSuffix(c.Label, "…"), c.keys()})
		}
	}
	return append(out,
		[2]string{lang.L("Move the selected nodes"), lang.L("Arrow keys")},
		[2]string{lang.L("Zoom"), lang.L("Ctrl+wheel")},
		[2]string{lang.L("Pan"), lang.L("Wheel, middle button drag")},
	)
}

// ShowShortcuts shows the keyboard shortcuts.
func (s *Studio) ShowShortcuts() {
	list := s.ShortcutList()
	rows := container.New(layoutTwoColumns())
	for _, r := range list {
		k := widget.NewLabel(r[1])
		k.TextStyle.Monospace = true
		rows.Add(widget.NewLabel(r[0]))
		rows.Add(k)
	}
	d := dialog.NewCustom(lang.L("Keyboard shortcuts"), lang.L("Close"), container.NewVScroll(rows), s.Win)
	d.Resize(fyne.NewSize(560, 620))
	d.Show()
}

func layoutTwoColumns() fyne.Layout { return &gridTwo{} }

// gridTwo lays objects out in rows of two: the first column as wide as its
// widest cell.
type gridTwo struct{}

func (g *gridTwo) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w0, w1, h := g.widths(objs)
	return fyne.NewSize(w0+w1+theme.Padding(), h)
}

func (g *gridTwo) widths(objs []fyne.CanvasObject) (w0, w1, h float32) {
	for i := 0; i+1 < len(objs); i += 2 {
		a, b := objs[i].MinSize(), objs[i+1].MinSize()
		w0 = max(w0, a.Width)
		w1 = max(w1, b.Width)
		h += max(a.Height, b.Height)
	}
	return
}

func (g *gridTwo) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w0, _, _ := g.widths(objs)
	y := float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		rh := max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		objs[i].Move(fyne.NewPos(0, y))
		objs[i].Resize(fyne.NewSize(w0, rh))
		objs[i+1].Move(fyne.NewPos(w0+theme.Padding(), y))
		objs[i+1].Resize(fyne.NewSize(size.Width-w0-theme.Padding(), rh))
		y += rh
	}
}

// ShowFind opens the find bar over the canvas: typing selects and reveals
// the first node whose label or type matches, Enter the next one.
func (s *Studio) ShowFind() {
	if s.onStart {
		return
	}
	bar := NewFindBar(s.Canvas)
	d := dialog.NewCustom(lang.L("Find a node…"), lang.L("Close"), container.NewGridWrap(fyne.NewSize(420, bar.Object().MinSize().Height), bar.Object()), s.Win)
	bar.OnEscape = d.Hide
	d.Show()
	bar.Focus()
}

// AddNote puts a sticky note in the middle of the view.
func (s *Studio) AddNote() {
	sz := s.Canvas.Size()
	s.Canvas.AddNote(lang.L("Note"), s.Canvas.ToDoc(fyne.NewPos(sz.Width/3, sz.Height/3)))
}

// GroupSelection puts a titled box round the selected nodes.
func (s *Studio) GroupSelection() {
	if s.Canvas.GroupSelection(lang.L("Group")) < 0 {
		s.setStatus(lang.L("Select the nodes to group first."))
	}
}
