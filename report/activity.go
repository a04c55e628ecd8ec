package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"deskbot/engine"
	"deskbot/store"
)

type storeKey struct{}

// WithStore gives a run's report.export nodes the history to report on.
// `deskbot run` and the studio call it with the database they record in.
func WithStore(opts *engine.Options, db *store.DB) {
	if opts.Services == nil {
		opts.Services = map[any]any{}
	}
	opts.Services[storeKey{}] = db
}

// StoreFrom returns the run's history database, or nil.
func StoreFrom(c *engine.Call) *store.DB {
	db, _ := c.Service(storeKey{}).(*store.DB)
	return db
}

// now is the clock report.export reads the period from; tests set it.
var now = time.Now

func init() {
	formats := make([]string, len(Formats))
	for i, f := range Formats {
		formats[i] = string(f)
	}
	engine.Register(engine.Spec{
		Type: "report.export", Title: "Export report", Category: "Reports", SideEffects: true, Icon: "upload",
		Summary: "Writes a report on the recorded runs (PDF, HTML, Excel or CSV), like `deskbot report`.",
		Doc: "The report covers one flow (or all) over a period: `since` (24h, 7d, 2w: today and the days before) " +
			"or all, or `from`/`to` dates (YYYY-MM-DD, both days included). PDF and HTML hold the summary, the charts, the tables " +
			"and the failed runs; Excel one sheet per table; CSV the run table in the file and the step table beside it " +
			"(report.csv and report-steps.csv). Dry runs are left out. The run needs its history: it works in runs that " +
			"are recorded (the studio, `deskbot run` without --no-record).",
		Fields: []engine.Field{
			{Name: "path", Title: "File", Kind: engine.KindPath, Required: true, Help: "The report file, e.g. out/report.pdf"},
			{Name: "format", Title: "Format", Kind: engine.KindSelect, Options: formats, Default: string(PDF)},
			{Name: "flow", Title: "Flow", Kind: engine.KindText, Help: "A flow's name; empty for every flow."},
			{Name: "since", Title: "Since", Kind: engine.KindText, Default: "7d", Help: "24h, 7d, 2w, or all; ignored when from or to is given."},
			{Name: "from", Title: "From", Kind: engine.KindText, Advanced: true, Help: "First day, YYYY-MM-DD."},
			{Name: "to", Title: "To", Kind: engine.KindText, Advanced: true, Help: "Last day (included), YYYY-MM-DD."},
			{Name: "output", Title: "Path into variable", Kind: engine.KindVar, Advanced: true},
		},
		New: newExport,
	})
}

func newExport(p *engine.Params) (engine.Activity, error) {
	path, flow := p.Template("path"), p.Template("flow")
	format := Format(p.Select("format"))
	if format == "" {
		format = PDF
	}
	since, from, to := p.Template("since"), p.Template("from"), p.Template("to")
	out := p.Var("output")
	// A period written out is checked now; one with templates when run.
	if since.IsConst() && from.IsConst() && to.IsConst() {
		s, _ := since.String(nil)
		f, _ := from.String(nil)
		t, _ := to.String(nil)
		if f != "" || t != "" {
			s = ""
		}
		if _, err := (Range{s, f, t}).Filter("", now(), time.Local); err != nil {
			field := "since"
			if s == "" {
				field = "from"
			}
			p.Fail(field, "%v", err)
		}
	}
	return engine.ActivityFunc(func(ctx context.Context, c *engine.Call) (string, error) {
		db := StoreFrom(c)
		if db == nil {
			return "", errors.New("no run history to report on: this run is not recorded (run it from the studio, or with `deskbot run` without --no-record)")
		}
		name, err := c.Path(path)
		if err != nil {
			return "", fmt.Errorf("path: %w", err)
		}
		var r Range
		fl, err := c.Text(flow)
		if err == nil {
			r.Since, err = c.Text(since)
		}
		if err == nil {
			r.From, err = c.Text(from)
		}
		if err == nil {
			r.To, err = c.Text(to)
		}
		if err != nil {
			return "", err
		}
		if r.From != "" || r.To != "" {
			r.Since = "" // the default 7d gives way to dates
		}
		f, err := r.Filter(fl, now(), time.Local)
		if err != nil {
			return "", err
		}
		files, err := Export(ctx, db, f, format, name)
		if err != nil {
			return "", err
		}
		c.Output("path", name)
		if len(files) > 1 {
			c.Output("steps_path", files[1])
		}
		if out != "" {
			return "", c.Set(out, name)
		}
		return "", nil
	}), nil
}
