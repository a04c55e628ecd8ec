package textgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	"deskbot/engine"
	"deskbot/model"
)

// text.generate_rows writes a text for each row of a table: the prompt is
// filled from the row, the rows go to the model a batch at a time
// (model.GenerateAll: a local model reads its weights once per step for the
// whole batch, an API profile sends its requests concurrently) and each
// text goes into a column of a copy of the table.
//
// A failed row fails the node by default: a note that is silently empty
// would reach a customer unseen, whereas a failed step is seen, names the
// row, keeps the texts already written (the table is set before the node
// fails, so the error port can save it) and can be run again. With
// on_error "continue" a failed row gets an empty cell and its error in
// the error column, for long tables where a few failures are expected
// and reviewed afterwards.

// Error handling choices of text.generate_rows.
const (
	OnErrorFail     = "fail"
	OnErrorContinue = "continue"
)

// MaxBatch bounds text.generate_rows' batch size.
const MaxBatch = 1000

func init() {
	fields := []engine.Field{
		{Name: "table", Title: "Table", Kind: engine.KindExpr, Required: true, Help: "A table (a list of objects), e.g. customers"},
		{Name: "prompt", Title: "Prompt", Kind: engine.KindMulti, Required: true,
			Help: "Text with {{ }} holes; row is the current row, e.g. row.Customer"},
		{Name: "column", Title: "Output column", Kind: engine.KindString, Required: true, Default: "text",
			Help: "The column that receives each row's text; new or existing."},
	}
	fields = append(fields, modelFields()...)
	fields = append(fields,
		engine.Field{Name: "batch_size", Title: "Batch size", Kind: engine.KindInt, Default: 8.0,
			Help: "Rows sent to the model together; an API profile's concurrency also limits requests at once."},
		engine.Field{Name: "on_error", Title: "On error", Kind: engine.KindSelect, Default: OnErrorFail, Options: []string{OnErrorFail, OnErrorContinue},
			Help: "fail: stop at a failed row; continue: leave its cell empty and write the error into the error column."},
		engine.Field{Name: "error_column", Title: "Error column", Kind: engine.KindString, Default: "error", Advanced: true,
			Help: "With on error continue: the column that receives each row's error (empty when it worked)."},
		engine.Field{Name: "overwrite", Title: "Overwrite a column the prompt reads", Kind: engine.KindBool, Default: false, Advanced: true,
			Help: "Allow the output column to be one that the prompt reads."},
		engine.Field{Name: "output", Title: "Into variable", Kind: engine.KindVar,
			Help: "The variable for the table with the new column; empty: the table's own variable."},
	)
	engine.Register(engine.Spec{
		Type: "text.generate_rows", Title: "Generate text for each row", Category: "AI", SideEffects: true, Icon: "grid",
		Summary: "Writes a text with a language model for each row of a table, into a column, several rows at a time.",
		Doc: "The prompt is a template in which `row` is the current row: `Write a short thank-you note to {{ row.Customer }} " +
			"for ordering {{ row.Product }}.` Every row's prompt is filled before anything is generated, so a misspelt " +
			"column fails the step at once, naming the row and the column (*row has no field \"Custmer\" (did you mean " +
			"\"Customer\"?)*), and never writes blank text. The texts go into the output column of a copy of the table, " +
			"which is put into the table's own variable or, when set, into another one. An output column that the prompt " +
			"reads is refused unless overwrite is set (its contents would be lost and a second run would ask other " +
			"questions).\n\n" +
			"The rows go to the model `batch_size` at a time: a local model generates for a whole batch at once; an " +
			"API profile sends the batch's requests concurrently, at most the profile's concurrency at a time " +
			"(`deskbot model provider set NAME --concurrency N`), and when the server answers 429 it waits as asked " +
			"and sends fewer at once for a while. The step's log says how many rows are done after each batch.\n\n" +
			"A failed row fails the step by default, naming the row and the error: a silently empty note would reach " +
			"a customer unnoticed. The rows done so far keep their text: the table is set before the step fails, so " +
			"an error port can save it. With on error `continue`, a failed row's cell stays empty and its error goes " +
			"into the error column (empty for the rows that worked). Stopping the run keeps the rows done too. " +
			"Every generation is kept in the history, one per row, with the row number in its parameters.",
		Fields: fields,
		New:    newGenerateRows,
	})
}

// modelFields are the fields that text.generate and text.generate_rows
// share, in the order shown.
func modelFields() []engine.Field {
	return []engine.Field{
		{Name: "provider", Title: "Model", Kind: engine.KindText, Required: true, Default: "gpt2",
			Help: "gpt2, distilgpt2, a checkpoint folder, api:PROFILE, or api:PROFILE/MODEL"},
		{Name: "max_tokens", Title: "Max tokens", Kind: engine.KindInt, Default: 100.0, Help: "Longest answer, in tokens (about ¾ of a word each)."},
		{Name: "temperature", Title: "Temperature", Kind: engine.KindFloat, Default: 0.7, Help: "0 = always the likeliest word; higher = more varied."},
		{Name: "top_k", Title: "Top-k", Kind: engine.KindInt, Default: 40.0, Advanced: true, Help: "Pick among the k likeliest tokens; 0 = off. Local models only."},
		{Name: "top_p", Title: "Top-p", Kind: engine.KindFloat, Default: 1.0, Advanced: true, Help: "Pick among the likeliest tokens that make up this share of probability; 1 = off."},
		{Name: "repetition_penalty", Title: "Repetition penalty", Kind: engine.KindFloat, Default: 1.0, Advanced: true, Help: "Above 1 discourages repeating tokens; 1 = off. Local models only."},
		{Name: "seed", Title: "Seed", Kind: engine.KindInt, Default: 0.0, Advanced: true, Help: "The same seed and prompt give the same text."},
		{Name: "stop", Title: "Stop at", Kind: engine.KindList, Advanced: true, Help: "Texts that end the answer (not included), e.g. \\n\\n"},
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type generateRows struct {
	table             *engine.Expr
	prompt, provider  *engine.Template
	stop              []*engine.Template
	req               model.Request
	column, errColumn string
	overwrite         bool
	onError           string
	batch             int
	output            string // the variable that receives the table
}

func newGenerateRows(p *engine.Params) (engine.Activity, error) {
	a := &generateRows{
		table:     p.Expr("table"),
		provider:  p.Template("provider"),
		stop:      p.List("stop"),
		column:    strings.TrimSpace(p.String("column")),
		errColumn: strings.TrimSpace(p.String("error_column")),
		overwrite: p.Bool("overwrite"),
		onError:   p.Select("on_error"),
		batch:     p.Int("batch_size"),
		output:    p.Var("output"),
	}
	a.req = requestParams(p)
	// The prompt may use row besides the run's variables.
	known := p.Known()
	if known != nil {
		known = maps.Clone(known)
		known["row"] = true
	}
	if src := p.String("prompt"); src != "" {
		t, err := engine.CompileTemplate(src, known)
		if err != nil {
			p.Fail("prompt", "%v", err)
		}
		a.prompt = t
	}
	if a.column == "" && p.Has("column") {
		p.Fail("column", "name the column that receives the text")
	}
	if a.batch < 1 || a.batch > MaxBatch {
		p.Fail("batch_size", "want 1 to %d rows, got %d", MaxBatch, a.batch)
	}
	if a.onError == OnErrorContinue {
		switch a.errColumn {
		case "":
			p.Fail("error_column", "name the column that receives the errors (on error is continue)")
		case a.column:
			p.Fail("error_column", "%q is also the output column; give the errors a column of their own", a.errColumn)
		}
	}
	if a.output == "" && a.table != nil {
		if !identRE.MatchString(a.table.Source) {
			p.Fail("output", "the table is the expression %q, not a variable: name the variable that receives the table with the new column", a.table.Source)
		}
		a.output = a.table.Source
	}
	return a, nil
}

// tableRows evaluates the table field: every row must be an object.
func tableRows(c *engine.Call, e *engine.Expr) ([]map[string]any, error) {
	v, err := c.Eval(e)
	if err != nil {
		return nil, fmt.Errorf("table: %w", err)
	}
	l, err := engine.ToList(v)
	if err != nil {
		return nil, fmt.Errorf("table: want a table (a list of objects): %w", err)
	}
	out := make([]map[string]any, len(l))
	for i, r := range l {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("table: row %d is %q, want an object (a table row with named columns)", i+1, clip(engine.ToString(r), 60))
		}
		out[i] = m
	}
	return out, nil
}

// rowsPlan is what a call works on: every row's request, ready.
type rowsPlan struct {
	provider string
	rows     []map[string]any
	reqs     []model.Request
}

// plan evaluates the fields and fills every row's prompt; a missing column
// fails here, before anything is generated.
func (a *generateRows) plan(c *engine.Call) (*rowsPlan, error) {
	provider, stop, err := evalProvider(c, a.provider, a.stop)
	if err != nil {
		return nil, err
	}
	rows, err := tableRows(c, a.table)
	if err != nil {
		return nil, err
	}
	pl := &rowsPlan{provider: provider, rows: rows, reqs: make([]model.Request, len(rows))}
	vars := maps.Clone(c.Vars())
	for i, r := range rows {
		vars["row"] = r
		s, err := a.prompt.String(vars)
		if err != nil {
			return nil, fmt.Errorf("prompt, row %d: %w", i+1, err)
		}
		if len(s) > engine.MaxTextBytes {
			return nil, fmt.Errorf("prompt, row %d: %d bytes, more than the %d a text may hold", i+1, len(s), engine.MaxTextBytes)
		}
		pl.reqs[i] = a.req
		pl.reqs[i].Prompt, pl.reqs[i].Stop = s, stop
		if !a.overwrite {
			if err := a.checkReads(vars, r, i, s); err != nil {
				return nil, err
			}
		}
	}
	return pl, nil
}

// checkReads fails when the prompt of row i (prompt) reads the output
// column: filled again with other values in that column, it changes (or
// fails).
func (a *generateRows) checkReads(vars map[string]any, r map[string]any, i int, prompt string) error {
	if _, has := r[a.column]; !has {
		return nil
	}
	probe := maps.Clone(r)
	defer func() { vars["row"] = r }()
	for _, v := range []any{"", "\x00deskbot probe\x00", 424242.5} {
		probe[a.column] = v
		vars["row"] = probe
		if s, err := a.prompt.String(vars); err != nil || s != prompt {
			return fmt.Errorf("column: the prompt reads column %q (row %d), which the generated text would overwrite; choose another output column, or set overwrite to replace it", a.column, i+1)
		}
	}
	return nil
}

// newTable copies the rows (the input table is never changed) with the
// output column, and the error column with on error continue, in every
// row: new cells are empty; an existing column keeps its value until the
// row's text comes.
func (a *generateRows) newTable(rows []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		m := make(map[string]any, len(r)+2)
		maps.Copy(m, r)
		if _, ok := m[a.column]; !ok {
			m[a.column] = ""
		}
		if a.onError == OnErrorContinue {
			m[a.errColumn] = ""
		}
		out[i] = m
	}
	return out
}

func tableValue(rows []map[string]any) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

func (a *generateRows) DryRun(ctx context.Context, c *engine.Call) (string, error) {
	pl, err := a.plan(c)
	if err != nil {
		return "", err
	}
	first := ""
	if len(pl.reqs) > 0 {
		first = fmt.Sprintf("; row 1's prompt: %q", clip(pl.reqs[0].Prompt, 200))
		c.Output("prompt", pl.reqs[0].Prompt)
	}
	c.Logf("dry run: would generate up to %d tokens for each of %d rows with %s (temperature %g, %d rows at a time) into column %q of %s%s",
		a.req.MaxTokens, len(pl.rows), pl.provider, a.req.Temperature, a.batch, a.column, a.output, first)
	out := a.newTable(pl.rows)
	for _, r := range out {
		r[a.column] = fmt.Sprintf("[text that %s would write]", pl.provider)
	}
	c.Output("rows", len(out))
	return "", c.Set(a.output, tableValue(out))
}

func (a *generateRows) Run(ctx context.Context, c *engine.Call) (string, error) {
	pl, err := a.plan(c)
	if err != nil {
		return "", err
	}
	out := a.newTable(pl.rows)
	n := len(out)
	c.Output("rows", n)
	if n == 0 {
		c.Logf("the table has no rows; nothing to generate")
		return "", c.Set(a.output, tableValue(out))
	}
	ps := ProvidersFrom(c)
	if ps == nil {
		return "", errors.New("text generation is not available in this run (no model providers were set up)")
	}
	gen, err := ps.Open(ctx, pl.provider)
	if err != nil {
		return "", err
	}
	c.Output("model", gen.Name())
	done, failed := 0, 0
	var stopErr error // the first failed row, with on error fail
	for start := 0; start < n && stopErr == nil && ctx.Err() == nil; start += a.batch {
		end := min(start+a.batch, n)
		c.Waiting(fmt.Sprintf("text for rows %d to %d of %d from %s", start+1, end, n, pl.provider))
		began := time.Now().UTC()
		res, errs := model.GenerateAll(ctx, gen, pl.reqs[start:end], nil)
		for j := range res {
			i := start + j
			if errs[j] != nil && res[j] == nil && ctx.Err() != nil {
				continue // never started: the run is stopping
			}
			_, genErr := record(ctx, c, pl.provider, gen, pl.reqs[i], res[j], errs[j], began, i+1)
			switch {
			case genErr == nil:
				out[i][a.column] = res[j].Text
				done++
			case ctx.Err() != nil:
				// Stopped mid-way: the row is not done.
			case a.onError == OnErrorContinue:
				out[i][a.column] = ""
				out[i][a.errColumn] = genErr.Error()
				failed++
				c.Log("warn", fmt.Sprintf("row %d: generate with %s: %v", i+1, pl.provider, genErr))
			case stopErr == nil:
				stopErr = fmt.Errorf("row %d: generate with %s: %w", i+1, pl.provider, genErr)
			}
		}
		c.Logf("text for %d of %d rows (%d failed)", done, n, failed)
		c.Output("rows_done", done)
		c.Output("rows_failed", failed)
	}
	// The rows done keep their text, whatever happened.
	if err := c.Set(a.output, tableValue(out)); err != nil {
		return "", err
	}
	if stopErr != nil {
		return "", fmt.Errorf("%w (%d of %d rows done; they keep their text)", stopErr, done, n)
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("stopped after %d of %d rows (they keep their text): %w", done, n, context.Cause(ctx))
	}
	return "", nil
}
