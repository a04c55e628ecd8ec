package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// fileTarget is the Open or Save dialog showing now: a path typed with
// "Type a path…" (ctrl+L, as in other desktop programs' file choosers)
// goes where the dialog's choice would.
type fileTarget struct {
	dlg  *dialog.FileDialog
	save bool
	use  func(path string) error
}

// pathBox is the "Type a path" dialog, while open.
type pathBox struct {
	entry *widget.Entry
	msg   *widget.Label
	dlg   dialog.Dialog
}

// showFileDialog shows d (the Open or Save dialog): large, titled with the
// hint for typing a path, and remembered as the target of a typed path.
func (s *Studio) showFileDialog(d *dialog.FileDialog, title string, save bool, use func(string) error) {
	d.SetTitleText(title + " — " + fmt.Sprintf(lang.L("%s types a path"), ShortcutText(scTypePath)))
	d.Resize(s.fileDialogSize())
	t := &fileTarget{dlg: d, save: save, use: use}
	s.fileTarget = t
	d.SetOnClosed(func() {
		if s.fileTarget == t {
			s.fileTarget = nil
		}
	})
	d.Show()
}

// TypePath asks for a flow's path as text: for the Open or Save dialog
// showing now, or else to open a flow. "~/" is the home folder; a relative
// path is in the flow's folder; ".json" may be left out.
func (s *Studio) TypePath() {
	t := s.fileTarget
	if t == nil {
		s.confirmDiscard(func() { s.showPathBox(&fileTarget{use: s.OpenFile}) })
		return
	}
	s.showPathBox(t)
}

func (s *Studio) showPathBox(t *fileTarget) {
	b := &pathBox{entry: widget.NewEntry(), msg: widget.NewLabel("")}
	b.entry.SetPlaceHolder(filepath.Join(s.baseDir(), "flow.json"))
	b.msg.Wrapping = fyne.TextWrapWord
	b.msg.Hide()
	submit := func() {
		p := s.resolveTypedPath(b.entry.Text, t.save)
		if p == "" {
			return
		}
		if err := t.use(p); err != nil {
			b.msg.SetText(err.Error())
			b.msg.Show()
			return
		}
		b.dlg.Hide()
		s.pathBox = nil
		if t.dlg != nil {
			t.dlg.Hide()
		}
	}
	b.entry.OnSubmitted = func(string) { submit() }
	title := lang.L("Open a flow")
	if t.save {
		title = lang.L("Save the flow as")
	}
	b.dlg = dialog.NewCustomConfirm(title, lang.L("OK"), lang.L("Cancel"),
		container.NewVBox(widget.NewLabel(lang.L("Type the path of the flow file:")), b.entry, b.msg),
		func(ok bool) {
			if ok {
				submit()
			}
			s.pathBox = nil
		}, s.Win)
	b.dlg.Resize(fyne.NewSize(max(600, s.Win.Canvas().Size().Width*0.6), 220))
	s.pathBox = b
	b.dlg.Show()
	s.Win.Canvas().Focus(b.entry)
}

// resolveTypedPath makes a typed path absolute: "~/" is the home folder, a
// relative path lies in the flow's folder, and ".json" is added when a
// saved name has no extension or an opened one exists only with it.
func (s *Studio) resolveTypedPath(text string, save bool) string {
	p := strings.TrimSpace(text)
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.baseDir(), p)
	}
	if filepath.Ext(p) == "" {
		if _, err := os.Stat(p); save || err != nil {
			p += ".json"
		}
	}
	return p
}
