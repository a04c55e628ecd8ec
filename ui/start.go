package ui

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// Sample is a flow offered on the start page.
type Sample struct {
	Path, Name, Description string
}

// Samples lists the flows in the samples folder.
func (s *Studio) Samples() []Sample {
	if s.opts.SamplesDir == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(s.opts.SamplesDir, "*.json"))
	sort.Strings(files)
	var out []Sample
	for _, p := range files {
		f, err := engine.LoadFile(p)
		if err != nil {
			continue
		}
		out = append(out, Sample{Path: p, Name: f.Name, Description: f.Description})
	}
	return out
}

func (s *Studio) buildStartPage() fyne.CanvasObject {
	title := canvas.NewText("Deskbot", theme.Color(theme.ColorNamePrimary))
	title.TextSize = 34
	title.TextStyle.Bold = true
	sub := widget.NewLabel(lang.L("Build office robots by drawing a flowchart."))
	newBtn := widget.NewButtonWithIcon(lang.L("New flow"), theme.DocumentCreateIcon(), s.New)
	newBtn.Importance = widget.HighImportance
	openBtn := widget.NewButtonWithIcon(lang.L("Open…"), theme.FolderOpenIcon(), s.OpenDialog)
	open := func(p string) {
		if err := s.OpenFile(p); err != nil {
			dialog.ShowError(err, s.Win)
		}
	}
	col := []fyne.CanvasObject{container.NewHBox(title), sub, container.NewHBox(newBtn, openBtn)}

	if recs := s.Recoveries(); len(recs) > 0 {
		col = append(col, widget.NewLabelWithStyle(lang.L("Recover unsaved work"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, r := range recs {
			r := r
			label := r.Name
			if r.Path != "" {
				label += " — " + r.Path
			}
			b := widget.NewButtonWithIcon(label+"  ("+r.Time.Format("2006-01-02 15:04")+")", theme.HistoryIcon(), func() {
				if err := s.Recover(r); err != nil {
					dialog.ShowError(err, s.Win)
				}
			})
			b.Alignment = widget.ButtonAlignLeading
			b.Importance = widget.WarningImportance
			col = append(col, b)
		}
	}
	if samples := s.Samples(); len(samples) > 0 {
		col = append(col, widget.NewLabelWithStyle(lang.L("Samples"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, sm := range samples {
			p := sm.Path
			key := sampleKey(p)
			b := widget.NewButtonWithIcon(tr(key+".name", sm.Name), theme.FileIcon(), func() {
				if err := s.OpenSample(p); err != nil {
					dialog.ShowError(err, s.Win)
				}
			})
			b.Alignment = widget.ButtonAlignLeading
			b.Importance = widget.LowImportance
			col = append(col, b)
			if sm.Description != "" {
				col = append(col, hintLabel(tr(key+".description", firstLine(sm.Description))))
			}
		}
	}
	if rec := s.Recent(); len(rec) > 0 {
		col = append(col, widget.NewLabelWithStyle(lang.L("Recent flows"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, p := range rec {
			p := p
			b := widget.NewButtonWithIcon(filepath.Base(p)+"  —  "+shortenHome(filepath.Dir(p)), theme.DocumentIcon(), func() { open(p) })
			b.Alignment = widget.ButtonAlignLeading
			b.Importance = widget.LowImportance
			col = append(col, b)
		}
	}
	box := container.NewVBox(col...)
	card := container.NewPadded(box)
	sized := container.NewGridWrap(fyne.NewSize(620, box.MinSize().Height+20), card)
	return container.NewVScroll(container.NewCenter(sized))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func shortenHome(p string) string {
	if h, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, h) {
		return "~" + p[len(h):]
	}
	return p
}
