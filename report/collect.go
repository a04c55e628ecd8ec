package report

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"deskbot/store"
)

// Limits of the lists Collect fills.
const (
	MaxNodeFailures = 20
	MaxFailures     = 20
	MaxSpeedPoints  = 2000
	MaxComparisons  = 10
)

// Collect reads the statistics of f's runs and generations from db. Every
// number is aggregated by SQLite (see store's statistics); Collect only
// copies them into Data. Days run over every calendar day (local time) of
// the range: from f.From, or the first run's day, to the day before f.To,
// or today (or the last run's day, if later). Data.Title is left for the
// caller.
func Collect(ctx context.Context, db *store.DB, f Filter) (*Data, error) {
	return collect(ctx, db, f, time.Local)
}

func collect(ctx context.Context, db *store.DB, f Filter, loc *time.Location) (*Data, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, fmt.Errorf("report: the range ends (%s) before it starts (%s)", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339))
	}
	sf := store.StatsFilter{Flow: f.Flow, From: f.From, To: f.To}
	now := db.Now()
	d := &Data{Filter: f, Generated: now}

	s, err := db.RunStats(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	d.Summary = Summary{Runs: s.Runs, Succeeded: s.Succeeded, Failed: s.Failed, Stopped: s.Stopped,
		SuccessRate: s.SuccessRate, P50: s.P50, P90: s.P90, Max: s.Max}

	// The rest depends only on the run summary: each part runs in its own
	// goroutine on its own connection (readers do not block each other in
	// WAL mode) and fills its own fields of d.
	var steps, items, gens, tokens int
	parts := []func() error{
		func() error { return collectDays(ctx, db, f, sf, s, now, loc, d) },
		func() error {
			hist, err := db.DurationHistogram(ctx, sf, s)
			for _, b := range hist {
				d.Durations = append(d.Durations, Bucket{Lo: b.Lo, Hi: b.Hi, Count: b.Count})
			}
			return err
		},
		func() error {
			acts, tot, err := db.ActivityStats(ctx, sf)
			steps, items = tot.Steps, tot.Items
			for _, a := range acts {
				d.Activities = append(d.Activities, ActivityTime{Type: a.Type, Steps: a.Steps, Total: a.Total, Mean: a.Mean})
			}
			return err
		},
		func() error {
			nf, err := db.NodeFailures(ctx, sf, MaxNodeFailures)
			for _, n := range nf {
				d.NodeFails = append(d.NodeFails, NodeFailures{Flow: n.Flow, Node: n.Node, Label: n.Label, Type: n.Type, Count: n.Count, Error: n.Error})
			}
			return err
		},
		func() error {
			fails, err := db.FailedRuns(ctx, sf, MaxFailures)
			for _, r := range fails {
				e := r.StepError
				if e == "" {
					e = r.Error
				}
				d.Failures = append(d.Failures, Failure{RunID: r.RunID, Flow: r.Flow, Node: r.Node, Label: r.Label, Start: r.Start,
					Error: e, Screenshot: r.Screenshot})
			}
			return err
		},
		func() error {
			models, err := db.GenerationStats(ctx, sf)
			for _, m := range models {
				d.Models = append(d.Models, ModelStats{Provider: m.Provider, Model: m.Model, Count: m.Count, Errors: m.Errors,
					PromptTokens: m.PromptTokens, OutputTokens: m.OutputTokens, TokensPerSecond: m.TokensPerSecond, FirstToken: m.FirstToken,
					MeanOutputTokens: m.MeanOutputTokens, MeanOutputRunes: m.MeanOutputRunes})
				gens += m.Count
				tokens += m.PromptTokens + m.OutputTokens
			}
			return err
		},
		func() error {
			speed, err := db.GenerationSpeed(ctx, sf, MaxSpeedPoints)
			for _, p := range speed {
				d.Speed = append(d.Speed, SpeedPoint{Time: p.Time, Model: p.Model, TokensPerSecond: p.TokensPerSecond})
			}
			return err
		},
		func() error {
			pairs, err := db.ComparablePairs(ctx, sf, MaxComparisons)
			if err != nil {
				return err
			}
			for _, p := range pairs {
				c, err := db.CompareGenerations(ctx, sf, p[0], p[1])
				if err != nil {
					return err
				}
				v := func(s store.VariantStat) Variant {
					return Variant{Provider: s.Provider, Model: s.Model, Params: s.Params, Count: s.Count, Errors: s.Errors,
						TokensPerSecond: s.TokensPerSecond, MeanOutputTokens: s.MeanOutputTokens}
				}
				d.Compare = append(d.Compare, Comparison{A: v(c.A), B: v(c.B), Prompts: c.Prompts})
			}
			return nil
		},
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = part()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	d.Summary.Steps, d.Summary.Items = steps, items
	d.Summary.Generations, d.Summary.Tokens = gens, tokens
	return d, nil
}

// collectDays fills d.Days: every day of the range, clipped to the runs
// where the range is open.
func collectDays(ctx context.Context, db *store.DB, f Filter, sf store.StatsFilter, s store.RunSummary, now time.Time, loc *time.Location, d *Data) error {
	from, to := f.From, f.To
	if from.IsZero() {
		from = s.First
	}
	if to.IsZero() {
		to = now
		if s.Last.After(to) {
			to = s.Last
		}
	} else {
		to = to.Add(-1) // To is exclusive
	}
	if from.IsZero() {
		return nil
	}
	days, err := db.RunsPerDay(ctx, sf, from, to, loc)
	for _, day := range days {
		d.Days = append(d.Days, Day{Day: day.Day, ByStatus: day.ByStatus})
	}
	return err
}
