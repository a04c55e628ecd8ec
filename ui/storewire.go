package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"deskbot/engine"
	"deskbot/report"
	"deskbot/store"
)

// WireStore records the studio's runs and saves in the store and feeds the
// History and Generations tabs from it.
func WireStore(opts *Options, db *store.DB) {
	prepare := opts.Prepare
	opts.Prepare = func(ctx context.Context, stop context.CancelCauseFunc, o *engine.Options) error {
		o.ArtifactDir = db.ArtifactDir(o.RunID)
		report.WithStore(o, db)
		if prepare != nil {
			return prepare(ctx, stop, o)
		}
		return nil
	}
	opts.Recorder = func(ctx context.Context, f *engine.Flow, path, runID string) (engine.Observer, func(*engine.Result, error), error) {
		doc, err := f.Marshal()
		if err != nil {
			return nil, nil, err
		}
		name := f.Name
		if name == "" {
			name = "untitled"
		}
		version, err := db.SaveFlow(ctx, name, path, doc)
		if err != nil {
			return nil, nil, err
		}
		rec, err := db.Recorder(context.WithoutCancel(ctx), store.RunInfo{ID: runID, Flow: name, FlowVersion: version, Path: path, History: f.Settings.History})
		if err != nil {
			return nil, nil, err
		}
		return rec, func(res *engine.Result, _ error) {
			if err := rec.Close(res); err != nil {
				fmt.Fprintln(os.Stderr, "deskbot: recording run:", err)
			}
		}, nil
	}
	opts.OnSave = func(f *engine.Flow, path string) {
		if doc, err := f.Marshal(); err == nil && f.Name != "" {
			if _, err := db.SaveFlow(context.Background(), f.Name, path, doc); err != nil {
				fmt.Fprintln(os.Stderr, "deskbot:", err)
			}
		}
	}
	opts.History = &storeHistory{db: db, flows: map[string]*engine.Flow{}}
	opts.Insights = storeInsights{db}
	opts.Generations = db
}

// storeInsights adapts the store to the studio's Insights tab.
type storeInsights struct{ db *store.DB }

func (i storeInsights) Flows() ([]string, error) {
	fs, err := i.db.Flows(context.Background())
	if err != nil {
		return nil, err
	}
	names := make([]string, len(fs))
	for j, f := range fs {
		names[j] = f.Name
	}
	return names, nil
}

func (i storeInsights) Report(f report.Filter) (*report.Data, error) {
	return report.Collect(context.Background(), i.db, f)
}

func (i storeInsights) Export(f report.Filter, format report.Format, path string) ([]string, error) {
	return report.Export(context.Background(), i.db, f, format, path)
}

// storeHistory adapts the store to the studio's History tab.
type storeHistory struct {
	db    *store.DB
	mu    sync.Mutex
	flows map[string]*engine.Flow // run id -> flow as run
}

func (h *storeHistory) Runs(limit int) ([]HistoryRun, error) {
	runs, err := h.db.Runs(context.Background(), store.RunFilter{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]HistoryRun, 0, len(runs))
	for _, r := range runs {
		hr := HistoryRun{ID: r.ID, Flow: r.Flow, Status: r.Status, Error: r.Error, Start: r.Start, Steps: r.Steps}
		if !r.End.IsZero() {
			hr.Duration = r.End.Sub(r.Start)
		}
		out = append(out, hr)
	}
	return out, nil
}

func (h *storeHistory) Steps(runID string) ([]HistoryStep, error) {
	steps, err := h.db.Steps(context.Background(), runID)
	if err != nil {
		return nil, err
	}
	flow := h.flow(runID)
	out := make([]HistoryStep, 0, len(steps))
	for _, st := range steps {
		hs := HistoryStep{Seq: st.Seq, Node: st.NodeID, Type: st.Type, Label: st.Label, Attempt: st.Attempt,
			Status: st.Status, Port: st.Port, Error: st.Error, Start: st.Start, Duration: st.Duration, Inputs: st.Inputs, Outputs: st.Outputs}
		if flow != nil {
			if n := flow.Node(st.NodeID); n != nil {
				hs.Params = n.Params
			}
		}
		out = append(out, hs)
	}
	return out, nil
}

// flow returns the flow version a run ran, from the flow library.
func (h *storeHistory) flow(runID string) *engine.Flow {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f, ok := h.flows[runID]; ok {
		return f
	}
	var f *engine.Flow
	if r, err := h.db.Run(context.Background(), runID); err == nil && r.FlowVersion > 0 {
		if doc, err := h.db.FlowVersion(context.Background(), r.Flow, r.FlowVersion); err == nil {
			f, _ = engine.Parse(doc)
		}
	}
	h.flows[runID] = f
	return f
}

func (h *storeHistory) VarsAt(runID string, seq int) (map[string]any, error) {
	return h.db.VarsAt(context.Background(), runID, seq)
}

// Screenshot returns a step's failure screenshot: the "screenshot" output
// the desktop activities record, or else a failure-NODE-*.png among the
// run's artifacts.
func (h *storeHistory) Screenshot(runID string, st HistoryStep) string {
	if p, ok := st.Outputs["screenshot"].(string); ok && p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if st.Status != engine.StatusFailed && st.Status != engine.StatusCaught && st.Error == "" {
		return ""
	}
	safe := []byte(st.Node)
	for i, c := range safe {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			safe[i] = '_'
		}
	}
	files, _ := filepath.Glob(filepath.Join(h.db.ArtifactDir(runID), "failure-"+string(safe)+"-*.png"))
	var best string
	var bestTime time.Time
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil && (best == "" || fi.ModTime().After(bestTime)) {
			best, bestTime = p, fi.ModTime()
		}
	}
	return best
}
