package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// runSettingsForm is Run › Run settings…: the flow's delay between desktop
// actions and slow motion.
type runSettingsForm struct {
	delay *widget.Entry
	slow  *widget.Check
	dlg   *dialog.FormDialog
	apply func()
}

// parseDelay reads the delay field: "" is the default, else a duration
// such as 250ms or 1s.
func parseDelay(s string) (*engine.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf(lang.L("not a duration: %q (e.g. 250ms or 1s)"), s)
	}
	if d < 0 {
		return nil, errors.New(lang.L("the delay cannot be negative"))
	}
	if d > time.Minute {
		return nil, errors.New(lang.L("at most one minute"))
	}
	v := engine.Duration(d)
	return &v, nil
}

// ShowRunSettings opens the run settings of the flow; OK changes them as
// one edit (undoable).
func (s *Studio) ShowRunSettings() {
	st := s.Doc.Flow.Settings
	f := &runSettingsForm{delay: widget.NewEntry(), slow: widget.NewCheck(lang.L("Slow motion: desktop actions slow enough to watch"), nil)}
	if st.ActionDelay != nil {
		f.delay.SetText(time.Duration(*st.ActionDelay).String())
	}
	f.delay.SetPlaceHolder(fmt.Sprintf(lang.L("%s (the default)"), engine.DefaultActionDelay))
	f.delay.Validator = func(t string) error { _, err := parseDelay(t); return err }
	f.slow.SetChecked(st.SlowMotion)
	items := []*widget.FormItem{
		{Text: lang.L("Delay between actions"), Widget: f.delay, HintText: lang.L("The pause after each click, key or typing step")},
		{Text: "", Widget: f.slow},
	}
	doc := s.Doc
	f.apply = func() {
		d, err := parseDelay(f.delay.Text)
		if err != nil {
			return
		}
		slow := f.slow.Checked
		cur := doc.Flow.Settings
		if slow == cur.SlowMotion && sameDelay(d, cur.ActionDelay) {
			return
		}
		doc.Edit(func(fl *engine.Flow) {
			fl.Settings.ActionDelay = d
			fl.Settings.SlowMotion = slow
		})
	}
	f.dlg = dialog.NewForm(lang.L("Run settings"), lang.L("OK"), lang.L("Cancel"), items, func(ok bool) {
		if ok {
			f.apply()
		}
		s.runSettings = nil
	}, s.Win)
	f.dlg.Resize(fyne.NewSize(560, 260))
	s.runSettings = f
	f.dlg.Show()
}

func sameDelay(a, b *engine.Duration) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
