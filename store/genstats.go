package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// genWhere returns the conditions (on alias g, with the run as r when a
// flow is asked for) and arguments that select f's generations, and the
// join that the flow condition needs. Generations made outside a run have
// no flow: a flow filter leaves them out.
func genWhere(f StatsFilter) (join, where string, args []any) {
	conds := []string{"1"}
	if f.Flow != "" {
		join = " JOIN runs r ON r.run_id = g.run_id"
		conds = append(conds, "r.flow = ?")
		args = append(args, f.Flow)
	}
	if !f.From.IsZero() {
		conds = append(conds, "g.created >= ?")
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		conds = append(conds, "g.created < ?")
		args = append(args, f.To.UnixNano())
	}
	return join, strings.Join(conds, " AND "), args
}

// ModelStat sums the generations of one provider and model.
type ModelStat struct {
	Provider, Model string
	Count, Errors   int
	PromptTokens    int
	OutputTokens    int
	// Means over the successful generations (those with a speed, for
	// TokensPerSecond; with a first token, for FirstToken).
	TokensPerSecond  float64
	FirstToken       time.Duration
	MeanOutputTokens float64
	MeanOutputRunes  float64 // characters, not bytes
}

// GenerationStats returns per provider and model the generations in f,
// most used first.
func (d *DB) GenerationStats(ctx context.Context, f StatsFilter) ([]ModelStat, error) {
	join, where, args := genWhere(f)
	rows, err := d.db.QueryContext(ctx, `SELECT g.provider, g.model, COUNT(*), SUM(g.error != ''),
			SUM(g.prompt_tokens), SUM(g.output_tokens),
			COALESCE(AVG(CASE WHEN g.error = '' AND g.tokens_per_second > 0 THEN g.tokens_per_second END), 0),
			COALESCE(AVG(CASE WHEN g.error = '' AND g.first_token_ns > 0 THEN g.first_token_ns END), 0),
			COALESCE(AVG(CASE WHEN g.error = '' THEN g.output_tokens END), 0),
			COALESCE(AVG(CASE WHEN g.error = '' THEN length(g.output) END), 0)
		FROM generations g`+join+` WHERE `+where+`
		GROUP BY g.provider, g.model ORDER BY 3 DESC, 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("generation statistics for %s: %w", f, err)
	}
	defer rows.Close()
	var out []ModelStat
	for rows.Next() {
		var m ModelStat
		var first float64
		if err := rows.Scan(&m.Provider, &m.Model, &m.Count, &m.Errors, &m.PromptTokens, &m.OutputTokens,
			&m.TokensPerSecond, &first, &m.MeanOutputTokens, &m.MeanOutputRunes); err != nil {
			return nil, fmt.Errorf("generation statistics for %s: %w", f, err)
		}
		m.FirstToken = time.Duration(first)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("generation statistics for %s: %w", f, err)
	}
	return out, nil
}

// SpeedPoint is the speed of a generation, or the mean speed of a model's
// generations in a time slice.
type SpeedPoint struct {
	Time            time.Time
	Model           string
	TokensPerSecond float64
	Count           int // generations averaged
}

// GenerationSpeed returns the tokens per second of f's successful
// generations over time, oldest first. With more than max of them (0 for
// 2000), each model's generations are averaged in max/4 equal time slices
// (in SQL), so a chart gets a bounded number of points.
func (d *DB) GenerationSpeed(ctx context.Context, f StatsFilter, max int) ([]SpeedPoint, error) {
	if max <= 0 {
		max = 2000
	}
	join, where, args := genWhere(f)
	where += " AND g.error = '' AND g.tokens_per_second > 0"
	var n int
	var lo, hi int64
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(g.created), 0), COALESCE(MAX(g.created), 0)
		FROM generations g`+join+` WHERE `+where, args...).Scan(&n, &lo, &hi); err != nil {
		return nil, fmt.Errorf("generation speed for %s: %w", f, err)
	}
	if n == 0 {
		return nil, nil
	}
	q := `SELECT g.created, g.model, g.tokens_per_second, 1 FROM generations g` + join + ` WHERE ` + where + ` ORDER BY g.created, g.id`
	if n > max {
		slices := int64(max / 4)
		if slices < 1 {
			slices = 1
		}
		w := (hi-lo)/slices + 1
		q = `SELECT CAST(AVG(g.created) AS INTEGER), g.model, AVG(g.tokens_per_second), COUNT(*) FROM generations g` + join +
			` WHERE ` + where + ` GROUP BY g.model, (g.created - ?) / ? ORDER BY 1, 2`
		args = append(args, lo, w)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("generation speed for %s: %w", f, err)
	}
	defer rows.Close()
	var out []SpeedPoint
	for rows.Next() {
		var p SpeedPoint
		var t int64
		if err := rows.Scan(&t, &p.Model, &p.TokensPerSecond, &p.Count); err != nil {
			return nil, fmt.Errorf("generation speed for %s: %w", f, err)
		}
		p.Time = fromNanos(t)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("generation speed for %s: %w", f, err)
	}
	return out, nil
}

// GenVariant is one side of a comparison: a provider and model, and
// (comparing one model under two settings) its parameters as stored
// (JSON); Params "" matches any parameters.
type GenVariant struct {
	Provider, Model, Params string
}

func (v GenVariant) String() string {
	s := v.Provider + " " + v.Model
	if v.Params != "" {
		s += " " + v.Params
	}
	return s
}

// VariantStat is a variant's record over the prompts a comparison covers.
type VariantStat struct {
	GenVariant
	Count, Errors    int
	TokensPerSecond  float64 // mean over successful generations
	FirstToken       time.Duration
	MeanOutputTokens float64
	MeanOutputRunes  float64
}

// GenComparison sets two variants side by side over the prompts both were
// given.
type GenComparison struct {
	A, B    VariantStat
	Prompts int // distinct prompts both answered
}

func variantCond(v GenVariant) (string, []any) {
	c, args := "g.provider = ? AND g.model = ?", []any{v.Provider, v.Model}
	if v.Params != "" {
		c += " AND g.params = ?"
		args = append(args, v.Params)
	}
	return c, args
}

// CompareGenerations compares a and b over the prompts both were given in
// f: each side's count, errors, speed and output length counted over
// those prompts only.
func (d *DB) CompareGenerations(ctx context.Context, f StatsFilter, a, b GenVariant) (GenComparison, error) {
	c := GenComparison{A: VariantStat{GenVariant: a}, B: VariantStat{GenVariant: b}}
	join, where, args := genWhere(f)
	ca, aa := variantCond(a)
	cb, ba := variantCond(b)
	// x: the generations of either side (side 0 is a, 1 is b; a
	// generation matching both counts for a); shared: the prompts both
	// sides answered.
	rows, err := d.db.QueryContext(ctx, `WITH x AS MATERIALIZED (
			SELECT CASE WHEN `+ca+` THEN 0 ELSE 1 END AS side, g.prompt, g.error, g.tokens_per_second, g.first_token_ns,
				g.output_tokens, length(g.output) AS runes
			FROM generations g`+join+` WHERE `+where+` AND ((`+ca+`) OR (`+cb+`))),
		shared AS (SELECT prompt FROM x GROUP BY prompt HAVING MIN(side) = 0 AND MAX(side) = 1)
		SELECT side, (SELECT COUNT(*) FROM shared), COUNT(*), COALESCE(SUM(error != ''), 0),
			COALESCE(AVG(CASE WHEN error = '' AND tokens_per_second > 0 THEN tokens_per_second END), 0),
			COALESCE(AVG(CASE WHEN error = '' AND first_token_ns > 0 THEN first_token_ns END), 0),
			COALESCE(AVG(CASE WHEN error = '' THEN output_tokens END), 0),
			COALESCE(AVG(CASE WHEN error = '' THEN runes END), 0)
		FROM x WHERE prompt IN (SELECT prompt FROM shared) GROUP BY side`,
		append(append(append(append([]any{}, aa...), args...), aa...), ba...)...)
	if err != nil {
		return c, fmt.Errorf("compare %s with %s for %s: %w", a, b, f, err)
	}
	defer rows.Close()
	for rows.Next() {
		var side int
		var first float64
		st := &c.A
		var v VariantStat
		if err := rows.Scan(&side, &c.Prompts, &v.Count, &v.Errors, &v.TokensPerSecond, &first, &v.MeanOutputTokens, &v.MeanOutputRunes); err != nil {
			return c, fmt.Errorf("compare %s with %s for %s: %w", a, b, f, err)
		}
		if side == 1 {
			st = &c.B
		}
		v.GenVariant, v.FirstToken = st.GenVariant, time.Duration(first)
		*st = v
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("compare %s with %s for %s: %w", a, b, f, err)
	}
	return c, nil
}

// ComparablePairs finds, in f, the pairs of variants given the same
// prompts, most shared prompts first (at most limit; 0 for 10): pairs of
// different models (Params ""), and pairs of one model under two
// parameter settings.
func (d *DB) ComparablePairs(ctx context.Context, f StatsFilter, limit int) ([][2]GenVariant, error) {
	if limit <= 0 {
		limit = 10
	}
	join, where, args := genWhere(f)
	rows, err := d.db.QueryContext(ctx, `WITH v AS (SELECT DISTINCT g.provider, g.model, g.params, g.prompt FROM generations g`+join+` WHERE `+where+`),
		m AS (SELECT DISTINCT provider, model, prompt FROM v),
		pairs AS (
			SELECT a.provider AS ap, a.model AS am, '' AS apar, b.provider AS bp, b.model AS bm, '' AS bpar, COUNT(*) AS n
			FROM m a JOIN m b ON a.prompt = b.prompt AND (a.provider < b.provider OR (a.provider = b.provider AND a.model < b.model))
			GROUP BY a.provider, a.model, b.provider, b.model
			UNION ALL
			SELECT a.provider, a.model, a.params, b.provider, b.model, b.params, COUNT(*)
			FROM v a JOIN v b ON a.prompt = b.prompt AND a.provider = b.provider AND a.model = b.model AND a.params < b.params
			GROUP BY a.provider, a.model, a.params, b.params)
		SELECT ap, am, apar, bp, bm, bpar FROM pairs ORDER BY n DESC, ap, am, apar, bp, bm, bpar LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("comparable generations for %s: %w", f, err)
	}
	defer rows.Close()
	var out [][2]GenVariant
	for rows.Next() {
		var p [2]GenVariant
		if err := rows.Scan(&p[0].Provider, &p[0].Model, &p[0].Params, &p[1].Provider, &p[1].Model, &p[1].Params); err != nil {
			return nil, fmt.Errorf("comparable generations for %s: %w", f, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comparable generations for %s: %w", f, err)
	}
	return out, nil
}
