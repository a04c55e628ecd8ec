package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/store"
)

// generationsPanel is the Generations tab: every text the text.generate
// activity produced, from the store, with a search (FTS5, see
// store.GenerationQuery), filters by flow, model, tag, date and archive,
// and actions on the texts ticked in the list: tag, untag, archive,
// unarchive, export as CSV or JSON. It reads the store on the UI
// goroutine, as the History tab does: each action is one small query.
type generationsPanel struct {
	db  *store.DB
	win fyne.Window

	search              *widget.Entry
	flow, model, tag    *widget.Select
	archive             *widget.Select
	from, to            *widget.Entry // dates, YYYY-MM-DD, both days included
	list                *widget.List
	detail              *widget.Label
	tagEntry            *widget.Entry
	status              *widget.Label
	items               []store.GenerationItem
	checked             map[int64]bool
	shown               int64 // the item in the detail pane
	root                fyne.CanvasObject
	allFlows, allModels string
	allTags             string
}

// Archive choices, in the order of the archive filter.
func archiveChoices() []string {
	return []string{lang.L("Not archived"), lang.L("Archived"), lang.L("Archived or not")}
}

func newGenerationsPanel(db *store.DB, win fyne.Window) *generationsPanel {
	p := &generationsPanel{db: db, win: win, checked: map[int64]bool{},
		allFlows: lang.L("All flows"), allModels: lang.L("All models"), allTags: lang.L("All tags")}
	p.search = widget.NewEntry()
	p.search.SetPlaceHolder(lang.L("Search prompts and texts"))
	p.search.OnSubmitted = func(string) { p.Reload() }
	onChange := func(string) { p.Reload() }
	p.flow = widget.NewSelect(nil, onChange)
	p.model = widget.NewSelect(nil, onChange)
	p.tag = widget.NewSelect(nil, onChange)
	p.archive = widget.NewSelect(archiveChoices(), onChange)
	p.from, p.to = widget.NewEntry(), widget.NewEntry()
	p.from.SetPlaceHolder(lang.L("From (YYYY-MM-DD)"))
	p.to.SetPlaceHolder(lang.L("To (YYYY-MM-DD)"))
	p.from.OnSubmitted, p.to.OnSubmitted = onChange, onChange
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.detail = widget.NewLabel(lang.L("Select a text to read it whole."))
	p.detail.Wrapping = fyne.TextWrapWord
	p.list = widget.NewList(func() int { return len(p.items) },
		func() fyne.CanvasObject {
			check := widget.NewCheck("", nil)
			title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			title.Truncation = fyne.TextTruncateEllipsis
			info := widget.NewLabel("")
			info.Truncation = fyne.TextTruncateEllipsis
			info.SizeName = theme.SizeNameCaptionText
			return container.NewBorder(nil, nil, check, nil, container.New(layout.NewCustomPaddedVBoxLayout(-12), title, info))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(p.items) {
				return
			}
			it := p.items[i]
			c := o.(*fyne.Container)
			texts := c.Objects[0].(*fyne.Container)
			check := c.Objects[1].(*widget.Check)
			check.OnChanged = nil
			check.SetChecked(p.checked[it.ID])
			id := it.ID
			check.OnChanged = func(on bool) { p.setChecked(id, on) }
			texts.Objects[0].(*widget.Label).SetText(oneLine(it.Output, 120))
			info := fmt.Sprintf("%s  %s  %s", it.Created.Format("2006-01-02 15:04"), it.Model, oneLine(it.Prompt, 60))
			if it.Flow != "" {
				info += "  · " + it.Flow
			}
			if len(it.Tags) > 0 {
				info += "  #" + strings.Join(it.Tags, " #")
			}
			if it.Error != "" {
				info += "  ⚠ " + it.Error
			}
			if it.Archived {
				info += "  (" + lang.L("archived") + ")"
			}
			texts.Objects[1].(*widget.Label).SetText(info)
		})
	p.list.OnSelected = func(i widget.ListItemID) { p.show(i) }
	p.tagEntry = widget.NewEntry()
	p.tagEntry.SetPlaceHolder(lang.L("Tag"))
	p.tagEntry.OnSubmitted = func(string) { p.tagChecked(true) }

	filters := container.NewGridWithColumns(3, p.flow, p.model, p.tag, p.from, p.to, p.archive)
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon(lang.L("Search"), theme.SearchIcon(), p.Reload), p.search),
		filters)
	actions := container.NewHBox(
		widget.NewButton(lang.L("Select all"), func() { p.checkAll(true) }),
		widget.NewButton(lang.L("Select none"), func() { p.checkAll(false) }),
		widget.NewButton(lang.L("Add tag"), func() { p.tagChecked(true) }),
		widget.NewButton(lang.L("Remove tag"), func() { p.tagChecked(false) }),
		widget.NewButton(lang.L("Archive"), func() { p.archiveChecked(true) }),
		widget.NewButton(lang.L("Unarchive"), func() { p.archiveChecked(false) }),
		widget.NewButtonWithIcon(lang.L("Export selected…"), theme.DocumentSaveIcon(), p.exportDialog),
	)
	bottom := container.NewVBox(container.NewBorder(nil, nil, nil, actions, p.tagEntry), p.status)
	split := container.NewHSplit(p.list, container.NewVScroll(p.detail))
	split.Offset = 0.55
	p.root = container.NewBorder(top, bottom, nil, nil, split)
	p.refreshChoices()
	p.archive.SetSelectedIndex(0)
	return p
}

func (p *generationsPanel) Object() fyne.CanvasObject { return p.root }

// oneLine shortens s to one line of at most n characters.
func oneLine(s string, n int) string {
	return ellipsize(strings.Join(strings.Fields(s), " "), n)
}

// refreshChoices fills the flow, model and tag filters from the store,
// keeping what is chosen.
func (p *generationsPanel) refreshChoices() {
	c, err := p.db.GenerationChoices(context.Background())
	if err != nil {
		p.fail(err)
		return
	}
	set := func(s *widget.Select, all string, opts []string) {
		cur := s.Selected
		s.Options = append([]string{all}, opts...)
		if cur == "" {
			cur = all
		}
		cb := s.OnChanged
		s.OnChanged = nil
		s.SetSelected(cur)
		s.OnChanged = cb
		s.Refresh()
	}
	set(p.flow, p.allFlows, c.Flows)
	set(p.model, p.allModels, c.Models)
	set(p.tag, p.allTags, c.Tags)
}

// query is the store query the filters describe.
func (p *generationsPanel) query() (store.GenerationQuery, error) {
	q := store.GenerationQuery{Text: p.search.Text}
	pick := func(s *widget.Select, all string) string {
		if s.Selected == all {
			return ""
		}
		return s.Selected
	}
	q.Flow, q.Model, q.Tag = pick(p.flow, p.allFlows), pick(p.model, p.allModels), pick(p.tag, p.allTags)
	q.Archive = store.Archive(max(p.archive.SelectedIndex(), 0))
	date := func(e *widget.Entry, field string) (time.Time, error) {
		s := strings.TrimSpace(e.Text)
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, s, time.Local)
		if err != nil {
			return t, fmt.Errorf(lang.L("%s: %q is not a date (YYYY-MM-DD)"), field, s)
		}
		return t, nil
	}
	var err error
	if q.Since, err = date(p.from, lang.L("From")); err != nil {
		return q, err
	}
	if q.Until, err = date(p.to, lang.L("To")); err != nil {
		return q, err
	}
	if !q.Until.IsZero() {
		q.Until = q.Until.AddDate(0, 0, 1) // the day itself is included
	}
	return q, nil
}

func (p *generationsPanel) fail(err error) {
	p.status.SetText(err.Error())
	p.status.Importance = widget.DangerImportance
	p.status.Refresh()
}

func (p *generationsPanel) say(msg string) {
	p.status.SetText(msg)
	p.status.Importance = widget.MediumImportance
	p.status.Refresh()
}

// Reload runs the search again with the filters.
func (p *generationsPanel) Reload() {
	if p.list == nil {
		return // still being built
	}
	q, err := p.query()
	if err != nil {
		p.fail(err)
		return
	}
	items, err := p.db.SearchGenerations(context.Background(), q)
	if err != nil {
		p.fail(err)
		return
	}
	p.items = items
	// Ticks survive a search only on the texts still listed.
	listed := map[int64]bool{}
	for _, it := range items {
		listed[it.ID] = true
	}
	for id := range p.checked {
		if !listed[id] {
			delete(p.checked, id)
		}
	}
	p.list.UnselectAll()
	p.list.Refresh()
	msg := fmt.Sprintf(lang.L("%d texts"), len(items))
	if !p.db.FullTextSearch() && strings.TrimSpace(q.Text) != "" {
		msg += " · " + lang.L("plain search: this build of Deskbot has no full-text index")
	}
	p.say(msg)
}

func (p *generationsPanel) setChecked(id int64, on bool) {
	if on {
		p.checked[id] = true
	} else {
		delete(p.checked, id)
	}
}

func (p *generationsPanel) checkAll(on bool) {
	clear(p.checked)
	if on {
		for _, it := range p.items {
			p.checked[it.ID] = true
		}
	}
	p.list.Refresh()
}

// checkedIDs returns the ticked texts, in list order.
func (p *generationsPanel) checkedIDs() []int64 {
	var ids []int64
	for _, it := range p.items {
		if p.checked[it.ID] {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

func (p *generationsPanel) show(i int) {
	if i >= len(p.items) {
		return
	}
	it := p.items[i]
	p.shown = it.ID
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s %s  %s\n", it.Created.Format("2006-01-02 15:04:05"), it.Provider, it.Model, string(it.Params))
	if it.Flow != "" {
		fmt.Fprintf(&b, "%s %s  %s %s  %s\n", lang.L("Flow"), it.Flow, lang.L("Run"), it.RunID, it.NodeID)
	}
	fmt.Fprintf(&b, "%d + %d tokens  %.1f tokens/s\n", it.PromptTokens, it.OutputTokens, it.TokensPerSec)
	if len(it.Tags) > 0 {
		fmt.Fprintf(&b, "%s: %s\n", lang.L("Tags"), strings.Join(it.Tags, ", "))
	}
	if it.Error != "" {
		fmt.Fprintf(&b, "%s: %s\n", lang.L("Error"), it.Error)
	}
	fmt.Fprintf(&b, "\n%s:\n%s\n\n%s:\n%s\n", lang.L("Prompt"), it.Prompt, lang.L("Text"), it.Output)
	p.detail.SetText(b.String())
}

// tagChecked adds (or removes) the tag in the tag box to the ticked texts.
func (p *generationsPanel) tagChecked(add bool) {
	ids := p.checkedIDs()
	if len(ids) == 0 {
		p.fail(errors.New(lang.L("Tick the texts first.")))
		return
	}
	tag := p.tagEntry.Text
	var err error
	if add {
		err = p.db.TagGenerations(context.Background(), ids, tag)
	} else {
		err = p.db.UntagGenerations(context.Background(), ids, tag)
	}
	if err != nil {
		p.fail(err)
		return
	}
	p.refreshChoices()
	p.Reload()
}

// archiveChecked archives (or brings back) the ticked texts.
func (p *generationsPanel) archiveChecked(archived bool) {
	ids := p.checkedIDs()
	if len(ids) == 0 {
		p.fail(errors.New(lang.L("Tick the texts first.")))
		return
	}
	if err := p.db.ArchiveGenerations(context.Background(), ids, archived); err != nil {
		p.fail(err)
		return
	}
	p.Reload()
}

// exportTo writes the ticked texts to w as CSV, or as JSON when name ends
// in .json.
func (p *generationsPanel) exportTo(w io.Writer, name string) (int, error) {
	ids := p.checkedIDs()
	if len(ids) == 0 {
		return 0, errors.New(lang.L("Tick the texts first."))
	}
	items, err := p.db.GenerationsByID(context.Background(), ids)
	if err != nil {
		return 0, err
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		err = store.WriteGenerationsJSON(w, items)
	case ".csv":
		err = store.WriteGenerationsCSV(w, items)
	default:
		err = fmt.Errorf(lang.L("%s: export as .csv or .json"), name)
	}
	return len(items), err
}

// exportFile exports the ticked texts into the file at path.
func (p *generationsPanel) exportFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := p.exportTo(f, path)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	p.say(fmt.Sprintf(lang.L("%d texts exported to %s"), n, path))
	return nil
}

func (p *generationsPanel) exportDialog() {
	if len(p.checkedIDs()) == 0 {
		p.fail(errors.New(lang.L("Tick the texts first.")))
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		if err := p.exportFile(path); err != nil {
			p.fail(err)
		}
	}, p.win)
	d.SetFileName("generations.csv")
	d.Show()
}
