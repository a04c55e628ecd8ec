package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// Preference keys of Run › Local model…: the local model's thread count
// (0 = the physical cores) and quantisation ("" = float32).
const (
	PrefModelThreads = "model.threads"
	PrefModelQuant   = "model.quant"
)

// LocalModel is how local models run: kernel threads (0 = the default,
// Options.LocalThreads) and quantisation ("" = float32 weights).
type LocalModel struct {
	Threads int
	Quant   string
}

// LocalModel returns the local-model settings saved in the preferences.
func (s *Studio) LocalModel() LocalModel {
	p := s.App.Preferences()
	lm := LocalModel{Threads: max(0, p.Int(PrefModelThreads)), Quant: p.String(PrefModelQuant)}
	if lm.Quant != "" && !contains(s.opts.Quants, lm.Quant) {
		lm.Quant = ""
	}
	return lm
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// modelSettingsForm is Run › Local model…, while open.
type modelSettingsForm struct {
	threads *widget.Entry
	quant   *widget.Select
	dlg     *dialog.FormDialog
	apply   func()
}

// parseThreads reads the threads field: "" or 0 is the default.
func parseThreads(t string) (int, error) {
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 256 {
		return 0, errors.New(lang.L("a whole number from 1 to 256, or empty for the default"))
	}
	return n, nil
}

// ShowModelSettings opens Run › Local model…: the threads local models
// use (the default, the physical cores, is shown) and their quantisation.
// The settings apply to runs started after OK; a model already loaded in a
// run keeps its own.
func (s *Studio) ShowModelSettings() {
	cur := s.LocalModel()
	f := &modelSettingsForm{threads: widget.NewEntry()}
	if cur.Threads > 0 {
		f.threads.SetText(strconv.Itoa(cur.Threads))
	}
	f.threads.SetPlaceHolder(fmt.Sprintf(lang.L("%d (the physical cores, the default)"), max(1, s.opts.LocalThreads)))
	f.threads.Validator = func(t string) error { _, err := parseThreads(t); return err }
	labels := []string{lang.L("float32 (best quality)")}
	for _, q := range s.opts.Quants {
		labels = append(labels, q)
	}
	f.quant = widget.NewSelect(labels, nil)
	f.quant.SetSelectedIndex(0)
	for i, q := range s.opts.Quants {
		if q == cur.Quant {
			f.quant.SetSelectedIndex(i + 1)
		}
	}
	items := []*widget.FormItem{
		{Text: lang.L("Threads"), Widget: f.threads, HintText: lang.L("Cores the local model computes on; more than the physical cores only slows it")},
		{Text: lang.L("Weights"), Widget: f.quant, HintText: lang.L("q8 and q4 are smaller and faster, a little less exact")},
	}
	f.apply = func() {
		n, err := parseThreads(f.threads.Text)
		if err != nil {
			return
		}
		q := ""
		if i := f.quant.SelectedIndex(); i > 0 && i <= len(s.opts.Quants) {
			q = s.opts.Quants[i-1]
		}
		p := s.App.Preferences()
		p.SetInt(PrefModelThreads, n)
		p.SetString(PrefModelQuant, q)
		if s.opts.OnLocalModel != nil {
			s.opts.OnLocalModel(s.LocalModel())
		}
	}
	f.dlg = dialog.NewForm(lang.L("Local model"), lang.L("OK"), lang.L("Cancel"), items, func(ok bool) {
		if ok {
			f.apply()
		}
		s.modelSettings = nil
	}, s.Win)
	f.dlg.Resize(fyne.NewSize(560, 260))
	s.modelSettings = f
	f.dlg.Show()
}
