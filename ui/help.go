package ui

import (
	"encoding/json"
	"fmt"
	"image/color"
	"reflect"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// PrefTheme is the preference key of the theme: "" follows the system,
// "light" or "dark" force one.
const PrefTheme = "theme"

// variantTheme is the default theme held to one variant.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

// Color answers in the theme's own variant (fyne.Theme).
func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// applyTheme sets the app's theme from the preference.
func (s *Studio) applyTheme() {
	switch s.App.Preferences().String(PrefTheme) {
	case "light":
		s.App.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	case "dark":
		s.App.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark})
	default:
		s.App.Settings().SetTheme(theme.DefaultTheme())
	}
}

// SetTheme saves the theme preference ("", "light" or "dark") and applies it.
func (s *Studio) SetTheme(name string) {
	s.App.Preferences().SetString(PrefTheme, name)
	s.applyTheme()
	if it := s.themeItem; it != nil {
		for i, code := range themeCodes {
			it.ChildMenu.Items[i].Checked = code == name
		}
		if s.Win.MainMenu() != nil {
			s.Win.MainMenu().Refresh()
		}
	}
	s.Canvas.Refresh()
}

// themeCodes are the theme menu's choices, in order.
var themeCodes = []string{"", "light", "dark"}

// themeMenuItem is View › Theme: System, Light, Dark.
func (s *Studio) themeMenuItem() *fyne.MenuItem {
	labels := []string{lang.L("System"), lang.L("Light"), lang.L("Dark")}
	cur := s.App.Preferences().String(PrefTheme)
	var items []*fyne.MenuItem
	for i, code := range themeCodes {
		code := code
		it := fyne.NewMenuItem(labels[i], func() { s.SetTheme(code) })
		it.Checked = code == cur
		items = append(items, it)
	}
	s.themeItem = fyne.NewMenuItem(lang.L("Theme"), nil)
	s.themeItem.ChildMenu = fyne.NewMenu("", items...)
	return s.themeItem
}

// ShowReference opens the activity reference (docs/activities.md, made
// from the activities' specs) in a window of its own.
func (s *Studio) ShowReference() {
	if s.refWin != nil {
		s.refWin.RequestFocus()
		return
	}
	md := string(engine.Markdown(s.reg))
	text := widget.NewRichTextFromMarkdown(md)
	text.Wrapping = fyne.TextWrapWord
	w := s.App.NewWindow("Deskbot — " + lang.L("Activity reference"))
	w.SetContent(container.NewVScroll(text))
	w.Resize(fyne.NewSize(900, 800))
	w.SetOnClosed(func() { s.refWin = nil })
	s.refWin = w
	w.Show()
}

// ShowAbout shows the version.
func (s *Studio) ShowAbout() {
	v := s.opts.Version
	if v == "" {
		v = "deskbot (version unknown)"
	}
	msg := widget.NewLabel(lang.L("Deskbot draws office robots as flowcharts and runs them.") + "\n\n" + v)
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(lang.L("About Deskbot"), lang.L("Close"), msg, s.Win)
	d.Resize(fyne.NewSize(520, 220))
	d.Show()
}

// ShowOpenError shows why the flow at path did not open (a broken file
// names the line and column), over the start page.
func (s *Studio) ShowOpenError(path string, err error) {
	s.ShowStartPage()
	d := dialog.NewError(fmt.Errorf(lang.L("Cannot open %s:")+"\n%w", path, err), s.Win)
	d.Show()
}

// debugState is what StartDebugState writes: enough of the studio for a
// test driving the real window to see what a key did.
type debugState struct {
	Title       string   `json:"title"`
	StartPage   bool     `json:"start_page"`
	Nodes       int      `json:"nodes"`
	Selected    int      `json:"selected"`
	Zoom        float32  `json:"zoom"`
	Dirty       bool     `json:"dirty"`
	Running     bool     `json:"running"`
	Paused      string   `json:"paused"`
	Breakpoints int      `json:"breakpoints"`
	Overlays    int      `json:"overlays"`
	Windows     []string `json:"windows"`
	Clipboard   string   `json:"clipboard"`
	Focus       string   `json:"focus"`
	Theme       string   `json:"theme"`
	// Dialog is the text of the labels in the top overlay (a dialog).
	Dialog []string `json:"dialog"`
	// Groups and Notes count the flow's group boxes and sticky notes;
	// Layout is the nodes' positions, for a test to see them move.
	Groups int    `json:"groups"`
	Notes  int    `json:"notes"`
	Layout string `json:"layout"`
}

func (s *Studio) debugSnapshot() debugState {
	st := debugState{
		Title: s.Win.Title(), StartPage: s.onStart, Nodes: len(s.Doc.Flow.Nodes),
		Selected: len(s.Canvas.Selection()), Zoom: s.Canvas.Zoom(), Dirty: s.Doc.Dirty(),
		Running: s.run != nil, Breakpoints: len(s.Canvas.Breakpoints),
		Overlays:  len(s.Win.Canvas().Overlays().List()),
		Clipboard: s.App.Clipboard().Content(), Theme: s.App.Preferences().String(PrefTheme),
		Groups: len(s.Doc.Flow.Groups), Notes: len(s.Doc.Flow.Notes),
	}
	for _, n := range s.Doc.Flow.Nodes {
		st.Layout += fmt.Sprintf("%s@%g,%g ", n.ID, n.Position.X, n.Position.Y)
	}
	if s.run != nil {
		st.Paused = s.run.paused
	}
	for _, w := range s.App.Driver().AllWindows() {
		st.Windows = append(st.Windows, w.Title())
	}
	if top := s.Win.Canvas().Overlays().Top(); top != nil {
		st.Dialog = overlayTexts(top)
	}
	if f := s.Win.Canvas().Focused(); f != nil {
		st.Focus = reflect.TypeOf(f).String()
	}
	return st
}

// StartDebugState writes the studio's state as JSON to path whenever it
// changes (checked ten times a second and after each command), for tests
// that drive the real window with xdotool.
func (s *Studio) StartDebugState(path string) {
	s.debugPath = path
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			s.bridge.post(s.writeDebugState)
		}
	}()
}

func (s *Studio) writeDebugState() {
	if s.debugPath == "" {
		return
	}
	b, err := json.Marshal(s.debugSnapshot())
	if err != nil || string(b) == s.debugLast {
		return
	}
	s.debugLast = string(b)
	_ = engine.WriteFileAtomic(s.debugPath, b, 0o644)
}

// overlayTexts collects the text of the labels and rich texts under o.
func overlayTexts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.RichText:
			out = append(out, w.String())
		case *widget.Entry:
			out = append(out, w.Text)
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *widget.PopUp:
			walk(w.Content)
		case *container.Scroll:
			walk(w.Content)
		}
	}
	walk(o)
	return out
}
