package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"deskbot/engine/textgen"
)

// DB is the text.generate activity's generation log.
var _ textgen.Log = (*DB)(nil)

// SaveGeneration records one generation. A zero Created is now.
func (d *DB) SaveGeneration(ctx context.Context, g textgen.Generation) error {
	created := g.Created
	if created.IsZero() {
		created = d.Now()
	}
	params := string(g.Params)
	if params == "" {
		params = "{}"
	} else if !json.Valid(g.Params) {
		return fmt.Errorf("save generation of node %q: params are not JSON", g.NodeID)
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO generations
		(created, run_id, node_id, provider, model, prompt, output, params, prompt_tokens, output_tokens,
		 first_token_ns, total_ns, tokens_per_second, finish_reason, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nanos(created), g.RunID, g.NodeID, g.Provider, g.Model, g.Prompt, g.Output, params, g.PromptTokens, g.OutputTokens,
		int64(g.FirstToken), int64(g.Total), g.TokensPerSec, g.FinishReason, g.Error)
	if err != nil {
		return fmt.Errorf("save generation of node %q in run %q: %w", g.NodeID, g.RunID, err)
	}
	return nil
}

// GenerationFilter selects generations; zero fields match everything.
type GenerationFilter struct {
	RunID    string
	Provider string
	Model    string
	Since    time.Time // created at or after
	Until    time.Time // created before
	Failed   *bool     // only failed (true) or only successful (false)
	Limit    int       // newest first; 0 means 1000
}

// GenerationRecord is a stored generation.
type GenerationRecord struct {
	ID int64
	textgen.Generation
}

// Generations returns matching generations, newest first.
func (d *DB) Generations(ctx context.Context, f GenerationFilter) ([]GenerationRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.RunID != "" {
		add("run_id = ?", f.RunID)
	}
	if f.Provider != "" {
		add("provider = ?", f.Provider)
	}
	if f.Model != "" {
		add("model = ?", f.Model)
	}
	if !f.Since.IsZero() {
		add("created >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("created < ?", nanos(f.Until))
	}
	if f.Failed != nil {
		if *f.Failed {
			where = append(where, "error != ''")
		} else {
			where = append(where, "error = ''")
		}
	}
	q := `SELECT id, created, run_id, node_id, provider, model, prompt, output, params, prompt_tokens, output_tokens,
		first_token_ns, total_ns, tokens_per_second, finish_reason, error FROM generations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += " ORDER BY created DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list generations: %w", err)
	}
	defer rows.Close()
	var out []GenerationRecord
	for rows.Next() {
		var r GenerationRecord
		var created, first, total int64
		var params string
		if err := rows.Scan(&r.ID, &created, &r.RunID, &r.NodeID, &r.Provider, &r.Model, &r.Prompt, &r.Output, &params,
			&r.PromptTokens, &r.OutputTokens, &first, &total, &r.TokensPerSec, &r.FinishReason, &r.Error); err != nil {
			return nil, fmt.Errorf("list generations: %w", err)
		}
		r.Created = fromNanos(created)
		r.FirstToken, r.Total = time.Duration(first), time.Duration(total)
		r.Params = json.RawMessage(params)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list generations: %w", err)
	}
	return out, nil
}
