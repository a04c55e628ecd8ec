package ui

import (
	"context"
	"errors"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// studioDialogs answers a run's dialogs (engine.Dialogs) in the studio.
// Each dialog opens in a window of its own, so that it shows while the
// studio is minimized for the run, and the studio's Stop button stays
// usable. Closing that window closes the dialog without an answer. The run
// goroutine hands the dialog to the UI goroutine through the bridge (the
// studio's one fyne.Do place) and waits for the answer or for the run's
// end, which closes the window.
type studioDialogs struct {
	s *Studio
}

type studioAnswer struct {
	v   any
	err error
}

// ask shows a dialog built by build in a new window and waits. build runs
// on the UI goroutine; it calls answer once (more calls are ignored).
func (d *studioDialogs) ask(ctx context.Context, title string, size fyne.Size, build func(w fyne.Window, answer func(v any, err error))) (any, error) {
	s := d.s
	reply := make(chan studioAnswer, 1)
	var w fyne.Window // UI goroutine only
	closed := false   // UI goroutine only
	closeWin := func() {
		if w != nil && !closed {
			closed = true
			w.Close()
			s.dialogClosed(w)
		}
	}
	answer := func(v any, err error) {
		select {
		case reply <- studioAnswer{v, err}:
		default:
		}
		closeWin()
	}
	s.bridge.post(func() {
		if ctx.Err() != nil {
			return
		}
		w = s.App.NewWindow(title)
		cancel := func() { answer(nil, engine.ErrDialogCancelled) }
		w.SetCloseIntercept(cancel)
		s.askCancel = cancel
		w.Resize(size)
		build(w, answer)
		s.dialogShown(w)
		w.Show()
		w.RequestFocus()
	})
	select {
	case a := <-reply:
		return a.v, a.err
	case <-ctx.Done():
		s.bridge.post(closeWin)
		return nil, context.Cause(ctx)
	}
}

// dialogShown and dialogClosed keep the open dialog window and the status
// bar; UI goroutine.
func (s *Studio) dialogShown(w fyne.Window) {
	s.askWin = w
	s.setStatus(lang.L("Waiting for your answer…"))
}

func (s *Studio) dialogClosed(w fyne.Window) {
	if s.askWin == w {
		s.askWin, s.askCancel = nil, nil
		if s.run != nil {
			s.setStatus(lang.L("Running…"))
		}
	}
}

// closeDialogWindow does what closing the dialog's window does (its close
// intercept): the dialog is closed without an answer.
func (s *Studio) closeDialogWindow() {
	if s.askCancel != nil {
		s.askCancel()
	}
}

// DialogWindow is the window of the dialog a run shows now, or nil; UI
// goroutine.
func (s *Studio) DialogWindow() fyne.Window { return s.askWin }

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func messageLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (d *studioDialogs) Message(ctx context.Context, m engine.Message) error {
	_, err := d.ask(ctx, orText(m.Title, "Deskbot"), fyne.NewSize(460, 240), func(w fyne.Window, answer func(any, error)) {
		icon := theme.InfoIcon()
		switch m.Level {
		case engine.LevelWarning:
			icon = theme.WarningIcon()
		case engine.LevelError:
			icon = theme.ErrorIcon()
		}
		dl := dialog.NewCustom(m.Title, lang.L("OK"), messageLabel(m.Text), w)
		dl.SetIcon(icon)
		dl.SetOnClosed(func() { answer(nil, nil) })
		dl.Resize(fyne.NewSize(420, 200))
		dl.Show()
	})
	return err
}

func (d *studioDialogs) Confirm(ctx context.Context, q engine.Confirm) (bool, error) {
	v, err := d.ask(ctx, orText(q.Title, "Deskbot"), fyne.NewSize(460, 240), func(w fyne.Window, answer func(any, error)) {
		dl := dialog.NewCustomConfirm(q.Title, orText(q.Yes, lang.L("Yes")), orText(q.No, lang.L("No")), messageLabel(q.Text),
			func(yes bool) { answer(yes, nil) }, w)
		dl.Resize(fyne.NewSize(420, 200))
		dl.Show()
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

func (d *studioDialogs) Form(ctx context.Context, f engine.Form) (map[string]any, error) {
	v, err := d.ask(ctx, orText(f.Title, "Deskbot"), fyne.NewSize(520, float32(180+56*len(f.Fields))), func(w fyne.Window, answer func(any, error)) {
		var items []*widget.FormItem
		if f.Text != "" {
			items = append(items, widget.NewFormItem("", messageLabel(f.Text)))
		}
		get := map[string]func() string{}
		for _, ff := range f.Fields {
			var obj fyne.CanvasObject
			switch ff.Kind {
			case engine.FormChoice:
				sel := widget.NewSelect(ff.Options, nil)
				sel.SetSelected(orText(ff.Default, ff.Options[0]))
				get[ff.Name] = func() string { return sel.Selected }
				obj = sel
			default:
				e := widget.NewEntry()
				if ff.Kind == engine.FormPassword {
					e = widget.NewPasswordEntry()
				}
				e.SetText(ff.Default)
				if ff.Kind == engine.FormNumber {
					e.Validator = func(s string) error {
						_, err := engine.CheckNumber(s)
						return err
					}
				}
				get[ff.Name] = func() string { return e.Text }
				obj = e
			}
			items = append(items, widget.NewFormItem(ff.Label, obj))
		}
		dl := dialog.NewForm(f.Title, lang.L("OK"), lang.L("Cancel"), items, func(ok bool) {
			if !ok {
				answer(nil, engine.ErrDialogCancelled)
				return
			}
			out := make(map[string]any, len(f.Fields))
			for _, ff := range f.Fields {
				v, err := engine.FormValue(ff, get[ff.Name]())
				if err != nil {
					answer(nil, errors.New(ff.Label+": "+err.Error()))
					return
				}
				out[ff.Name] = v
			}
			answer(out, nil)
		}, w)
		dl.Resize(fyne.NewSize(480, float32(140+56*len(f.Fields))))
		dl.Show()
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (d *studioDialogs) Pick(ctx context.Context, p engine.Pick) (string, error) {
	v, err := d.ask(ctx, orText(p.Title, "Deskbot"), fyne.NewSize(900, 640), func(w fyne.Window, answer func(any, error)) {
		done := func(path string, err error) {
			switch {
			case err != nil:
				answer(nil, err)
			case path == "":
				answer(nil, engine.ErrDialogCancelled)
			default:
				answer(path, nil)
			}
		}
		var fd *dialog.FileDialog
		switch {
		case p.Folder:
			fd = dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
				if u == nil {
					done("", err)
					return
				}
				done(u.Path(), nil)
			}, w)
		case p.Save:
			fd = dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
				if wc == nil {
					done("", err)
					return
				}
				// fyne's save dialog opens the file for writing (it asked
				// before replacing one); the flow writes it, so the empty
				// file it made is not left behind.
				path := wc.URI().Path()
				wc.Close()
				if st, err := os.Stat(path); err == nil && st.Size() == 0 {
					os.Remove(path)
				}
				done(path, nil)
			}, w)
			if p.Name != "" {
				fd.SetFileName(p.Name)
			}
		default:
			fd = dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
				if rc == nil {
					done("", err)
					return
				}
				path := rc.URI().Path()
				rc.Close()
				done(path, nil)
			}, w)
		}
		if len(p.Filter) > 0 && !p.Folder {
			fd.SetFilter(storage.NewExtensionFileFilter(p.Filter))
		}
		if p.Dir != "" {
			if l, err := storage.ListerForURI(storage.NewFileURI(p.Dir)); err == nil {
				fd.SetLocation(l)
			}
		}
		if p.Title != "" {
			fd.SetTitleText(p.Title)
		}
		fd.Resize(fyne.NewSize(880, 620))
		fd.Show()
	})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(v.(string)), nil
}
