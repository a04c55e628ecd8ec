package store

import (
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

// Searching the generations (the Generations tab).
//
// A binary built with the sqlite_fts5 tag (the Makefile passes it to
// every build and test) searches through an FTS5 index of the prompts and
// outputs, created by the fts5/generations_fts.sql migration: an
// external-content table with the trigram tokenizer, kept in step by
// triggers. A binary built without the tag has no FTS5: it searches with
// LIKE instead (each word a substring of the prompt or the output; slower
// on a large history, and case-insensitive only for ASCII), and says so
// through FullTextSearch. Such a binary drops the index's triggers when it
// opens a database that has them (it could not write generations
// otherwise) and forgets the migration, so that the next binary with FTS5
// rebuilds the index from the table.

//go:embed fts5/*.sql
var ftsFS embed.FS

// ftsMigration is the FTS5 migration's name in schema_migrations.
const ftsMigration = "fts5/generations_fts.sql"

// FullTextSearch says whether SearchGenerations uses the FTS5 index (this
// binary was built with the sqlite_fts5 tag) rather than LIKE.
func (d *DB) FullTextSearch() bool { return d.fts }

// setupSearch creates the FTS5 index when this binary has FTS5 and the
// database lacks it, or removes its triggers when this binary lacks FTS5.
// It takes the write lock only when there is something to do.
func (d *DB) setupSearch(ctx context.Context) error {
	if err := d.db.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&d.fts); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	var applied, triggers int
	state := func() error {
		return d.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM schema_migrations WHERE name = ?),
			(SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'generations_fts_%')`, ftsMigration).Scan(&applied, &triggers)
	}
	if err := retryBusy(ctx, state); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	switch {
	case d.fts && (applied == 0 || triggers < 3):
		buf, err := ftsFS.ReadFile(ftsMigration)
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		err = retryBusy(ctx, func() error {
			tx, err := d.db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			// Another process may have built the index since state() looked
			// (this transaction holds the write lock): look again.
			var n, t int
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM schema_migrations WHERE name = ?),
				(SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'generations_fts_%')`, ftsMigration).Scan(&n, &t); err != nil {
				return err
			}
			if n > 0 && t >= 3 {
				return nil
			}
			// Dropped triggers mean a binary without FTS5 wrote here:
			// build the index again.
			if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO schema_migrations (name, applied) VALUES (?, ?)`, ftsMigration, d.Now().UnixNano()); err != nil {
				return err
			}
			return tx.Commit()
		})
		if err != nil {
			return fmt.Errorf("search index: migration %s: %w", ftsMigration, err)
		}
	case !d.fts && (applied > 0 || triggers > 0):
		err := retryBusy(ctx, func() error {
			tx, err := d.db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for _, t := range []string{"generations_fts_ai", "generations_fts_ad", "generations_fts_au"} {
				if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+t); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM schema_migrations WHERE name = ?`, ftsMigration); err != nil {
				return err
			}
			return tx.Commit()
		})
		if err != nil {
			return fmt.Errorf("search index: this binary has no FTS5; removing the index's triggers: %w", err)
		}
	}
	return nil
}

// ErrBadSearch is returned (wrapped, with SQLite's reason) for a search
// text that FTS5 cannot read.
var ErrBadSearch = errors.New("not a valid search")

// Archive selects generations by their archive flag.
type Archive int

const (
	NotArchived  Archive = iota // the default: archived texts are hidden
	OnlyArchived                // the archive
	AnyArchived                 // both
)

// GenerationQuery selects generations for the Generations tab; zero
// fields match everything.
//
// Text is the search. Plain words (letters, digits, spaces) must all
// appear in the prompt or the output, as substrings, in any case: "发票"
// finds "请处理发票". With FTS5, words of three characters or more are
// looked up in the index, shorter ones scanned with LIKE. Any other text
// is FTS5 query syntax: "a phrase", a OR b, a NOT b, NEAR(a b), prompt:
// word, output: word; a text FTS5 cannot read gives ErrBadSearch. Without
// FTS5 (see FullTextSearch) every text is words, double quotes ignored.
type GenerationQuery struct {
	Text     string
	Flow     string // generations of this flow's runs
	Provider string
	Model    string
	Tag      string
	Since    time.Time // created at or after
	Until    time.Time // created before
	Archive  Archive
	Limit    int // newest first; 0 means 500
}

// GenerationItem is a generation as the Generations tab lists it.
type GenerationItem struct {
	GenerationRecord
	Flow     string // "" outside a run
	Tags     []string
	Archived bool
}

// ftsOperators are the FTS5 words that make a text query syntax.
var ftsOperators = map[string]bool{"AND": true, "OR": true, "NOT": true}

// plainWords splits a search into words, and says whether they are plain
// (no FTS5 syntax).
func plainWords(text string) ([]string, bool) {
	words := strings.Fields(text)
	for _, w := range words {
		if ftsOperators[w] || strings.HasPrefix(w, "NEAR") {
			return words, false
		}
		for _, r := range w {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_') {
				return words, false
			}
		}
	}
	return words, true
}

// likeCond is a condition that word is in the prompt or the output.
func likeCond(word string) (string, []any) {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	p := "%" + r.Replace(word) + "%"
	return `(g.prompt LIKE ? ESCAPE '\' OR g.output LIKE ? ESCAPE '\')`, []any{p, p}
}

// ftsQuote makes word one FTS5 string.
func ftsQuote(word string) string { return `"` + strings.ReplaceAll(word, `"`, `""`) + `"` }

const itemCols = `g.id, g.created, g.run_id, g.node_id, g.provider, g.model, g.prompt, g.output, g.params, g.prompt_tokens,
	g.output_tokens, g.first_token_ns, g.total_ns, g.tokens_per_second, g.finish_reason, g.error, COALESCE(r.flow, ''), g.archived,
	(SELECT json_group_array(tag) FROM (SELECT tag FROM generation_tags t WHERE t.generation = g.id ORDER BY tag))`

const itemFrom = ` FROM generations g LEFT JOIN runs r ON r.run_id = g.run_id AND g.run_id != ''`

func scanItems(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) ([]GenerationItem, error) {
	var out []GenerationItem
	for rows.Next() {
		var it GenerationItem
		var created, first, total int64
		var params, tags string
		if err := rows.Scan(&it.ID, &created, &it.RunID, &it.NodeID, &it.Provider, &it.Model, &it.Prompt, &it.Output, &params,
			&it.PromptTokens, &it.OutputTokens, &first, &total, &it.TokensPerSec, &it.FinishReason, &it.Error, &it.Flow, &it.Archived, &tags); err != nil {
			return nil, err
		}
		it.Created = fromNanos(created)
		it.FirstToken, it.Total = time.Duration(first), time.Duration(total)
		it.Params = json.RawMessage(params)
		if err := json.Unmarshal([]byte(tags), &it.Tags); err != nil {
			return nil, err
		}
		if len(it.Tags) == 0 {
			it.Tags = nil
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// SearchGenerations returns the generations q selects, newest first.
func (d *DB) SearchGenerations(ctx context.Context, q GenerationQuery) ([]GenerationItem, error) {
	var conds []string
	var args []any
	add := func(c string, a ...any) {
		conds = append(conds, c)
		args = append(args, a...)
	}
	if q.Flow != "" {
		add("r.flow = ?", q.Flow)
	}
	if q.Provider != "" {
		add("g.provider = ?", q.Provider)
	}
	if q.Model != "" {
		add("g.model = ?", q.Model)
	}
	if q.Tag != "" {
		add("EXISTS (SELECT 1 FROM generation_tags t WHERE t.generation = g.id AND t.tag = ?)", q.Tag)
	}
	if !q.Since.IsZero() {
		add("g.created >= ?", nanos(q.Since))
	}
	if !q.Until.IsZero() {
		add("g.created < ?", nanos(q.Until))
	}
	switch q.Archive {
	case NotArchived:
		add("g.archived = 0")
	case OnlyArchived:
		add("g.archived = 1")
	}
	text := strings.TrimSpace(q.Text)
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("search %q: %w: the text is not UTF-8", q.Text, ErrBadSearch)
	}
	match := ""
	if text != "" {
		words, plain := plainWords(text)
		switch {
		case d.fts && !plain:
			match = text
		case d.fts:
			var terms []string
			for _, w := range words {
				if utf8.RuneCountInString(w) >= 3 {
					terms = append(terms, ftsQuote(w))
				} else {
					c, a := likeCond(w)
					add(c, a...)
				}
			}
			match = strings.Join(terms, " ")
		default:
			for _, w := range strings.Fields(strings.ReplaceAll(text, `"`, " ")) {
				c, a := likeCond(w)
				add(c, a...)
			}
		}
	}
	if match != "" {
		add("g.id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH ?)", match)
	}
	query := `SELECT ` + itemCols + itemFrom
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	query += ` ORDER BY g.created DESC, g.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err == nil {
		defer rows.Close()
		var out []GenerationItem
		out, err = scanItems(rows)
		if err == nil {
			return out, nil
		}
	}
	var se sqlite3.Error
	if match != "" && errors.As(err, &se) && se.Code == sqlite3.ErrError {
		return nil, fmt.Errorf("search %q: %w: %s (put words with punctuation in double quotes, like \"e-mail\")", q.Text, ErrBadSearch, se.Error())
	}
	return nil, fmt.Errorf("search generations: %w", err)
}

// GenerationsByID returns the generations with these ids, newest first
// (ids that do not exist are left out).
func (d *DB) GenerationsByID(ctx context.Context, ids []int64) ([]GenerationItem, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	b, _ := json.Marshal(ids)
	rows, err := d.db.QueryContext(ctx, `SELECT `+itemCols+itemFrom+` WHERE g.id IN (SELECT value FROM json_each(?))
		ORDER BY g.created DESC, g.id DESC`, string(b))
	if err != nil {
		return nil, fmt.Errorf("read generations: %w", err)
	}
	defer rows.Close()
	out, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("read generations: %w", err)
	}
	return out, nil
}

// MaxTagRunes bounds a tag's length.
const MaxTagRunes = 64

// CleanTag returns tag with its spaces trimmed and runs of spaces made
// one, or an error naming what is wrong with it.
func CleanTag(tag string) (string, error) {
	t := strings.Join(strings.Fields(tag), " ")
	switch {
	case !utf8.ValidString(t):
		return "", fmt.Errorf("tag %q: not UTF-8 text", tag)
	case t == "":
		return "", fmt.Errorf("tag %q: empty", tag)
	case utf8.RuneCountInString(t) > MaxTagRunes:
		return "", fmt.Errorf("tag %q: longer than %d characters", tag, MaxTagRunes)
	case strings.IndexFunc(t, unicode.IsControl) >= 0:
		return "", fmt.Errorf("tag %q: contains a control character", tag)
	}
	return t, nil
}

// editGenerations runs one statement per id in one transaction; a missing
// id is an error naming it, and nothing is changed.
func (d *DB) editGenerations(ctx context.Context, what string, ids []int64, q string, arg any) error {
	err := retryBusy(ctx, func() error {
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		check, err := tx.PrepareContext(ctx, `SELECT COUNT(*) FROM generations WHERE id = ?`)
		if err != nil {
			return err
		}
		defer check.Close()
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range ids {
			var n int
			if err := check.QueryRowContext(ctx, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("generation %d: %w", id, ErrNotFound)
			}
			if _, err := st.ExecContext(ctx, id, arg); err != nil {
				return fmt.Errorf("generation %d: %w", id, err)
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// TagGenerations gives the generations the tag (cleaned by CleanTag).
func (d *DB) TagGenerations(ctx context.Context, ids []int64, tag string) error {
	t, err := CleanTag(tag)
	if err != nil {
		return err
	}
	return d.editGenerations(ctx, fmt.Sprintf("tag %d generations %q", len(ids), t), ids,
		`INSERT OR IGNORE INTO generation_tags (generation, tag) VALUES (?, ?)`, t)
}

// UntagGenerations removes the tag from the generations.
func (d *DB) UntagGenerations(ctx context.Context, ids []int64, tag string) error {
	t, err := CleanTag(tag)
	if err != nil {
		return err
	}
	return d.editGenerations(ctx, fmt.Sprintf("untag %d generations %q", len(ids), t), ids,
		`DELETE FROM generation_tags WHERE generation = ?1 AND tag = ?2`, t)
}

// ArchiveGenerations sets the generations' archive flag.
func (d *DB) ArchiveGenerations(ctx context.Context, ids []int64, archived bool) error {
	what := "archive"
	if !archived {
		what = "unarchive"
	}
	return d.editGenerations(ctx, fmt.Sprintf("%s %d generations", what, len(ids)), ids,
		`UPDATE generations SET archived = ?2 WHERE id = ?1`, archived)
}

// GenerationChoices lists, for the tab's filters, the flows, models and
// tags that generations have, each sorted.
type GenerationChoices struct {
	Flows, Models, Tags []string
}

// GenerationChoices returns the values the Generations tab's filters offer.
func (d *DB) GenerationChoices(ctx context.Context) (GenerationChoices, error) {
	var c GenerationChoices
	for _, x := range []struct {
		dst *[]string
		q   string
	}{
		{&c.Flows, `SELECT DISTINCT r.flow FROM runs r WHERE r.run_id IN (SELECT run_id FROM generations WHERE run_id != '') ORDER BY 1`},
		{&c.Models, `SELECT DISTINCT model FROM generations ORDER BY 1`},
		{&c.Tags, `SELECT DISTINCT tag FROM generation_tags ORDER BY 1`},
	} {
		rows, err := d.db.QueryContext(ctx, x.q)
		if err != nil {
			return c, fmt.Errorf("generation filters: %w", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return c, fmt.Errorf("generation filters: %w", err)
			}
			*x.dst = append(*x.dst, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return c, fmt.Errorf("generation filters: %w", err)
		}
	}
	return c, nil
}

// GenerationColumns are the columns of an exported generation, in order.
var GenerationColumns = []string{"id", "created", "flow", "run_id", "node_id", "provider", "model", "params", "prompt", "output",
	"prompt_tokens", "output_tokens", "tokens_per_second", "first_token_ms", "total_ms", "finish_reason", "error", "tags", "archived"}

func exportRow(it GenerationItem) []string {
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
	}
	return []string{strconv.FormatInt(it.ID, 10), it.Created.Format(time.RFC3339Nano), it.Flow, it.RunID, it.NodeID, it.Provider, it.Model,
		string(it.Params), it.Prompt, it.Output, strconv.Itoa(it.PromptTokens), strconv.Itoa(it.OutputTokens),
		strconv.FormatFloat(it.TokensPerSec, 'f', -1, 64), ms(it.FirstToken), ms(it.Total), it.FinishReason, it.Error,
		strings.Join(it.Tags, ", "), strconv.FormatBool(it.Archived)}
}

// WriteGenerationsCSV writes items as CSV with a header row
// (GenerationColumns), UTF-8 with a byte-order mark so that Excel reads
// Chinese text right.
func WriteGenerationsCSV(w io.Writer, items []GenerationItem) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("export generations as CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.Write(GenerationColumns)
	for _, it := range items {
		cw.Write(exportRow(it))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export generations as CSV: %w", err)
	}
	return nil
}

// exported is a generation as WriteGenerationsJSON writes it.
type exported struct {
	ID              int64           `json:"id"`
	Created         time.Time       `json:"created"`
	Flow            string          `json:"flow"`
	RunID           string          `json:"run_id"`
	NodeID          string          `json:"node_id"`
	Provider        string          `json:"provider"`
	Model           string          `json:"model"`
	Params          json.RawMessage `json:"params"`
	Prompt          string          `json:"prompt"`
	Output          string          `json:"output"`
	PromptTokens    int             `json:"prompt_tokens"`
	OutputTokens    int             `json:"output_tokens"`
	TokensPerSecond float64         `json:"tokens_per_second"`
	FirstTokenMS    float64         `json:"first_token_ms"`
	TotalMS         float64         `json:"total_ms"`
	FinishReason    string          `json:"finish_reason"`
	Error           string          `json:"error"`
	Tags            []string        `json:"tags"`
	Archived        bool            `json:"archived"`
}

// WriteGenerationsJSON writes items as a JSON array of objects whose
// keys are GenerationColumns (tags as an array, params as an object).
func WriteGenerationsJSON(w io.Writer, items []GenerationItem) error {
	out := make([]exported, 0, len(items))
	for _, it := range items {
		params := it.Params
		if !json.Valid(params) {
			params = json.RawMessage("{}")
		}
		tags := it.Tags
		if tags == nil {
			tags = []string{}
		}
		out = append(out, exported{ID: it.ID, Created: it.Created, Flow: it.Flow, RunID: it.RunID, NodeID: it.NodeID, Provider: it.Provider,
			Model: it.Model, Params: params, Prompt: it.Prompt, Output: it.Output, PromptTokens: it.PromptTokens, OutputTokens: it.OutputTokens,
			TokensPerSecond: it.TokensPerSec, FirstTokenMS: float64(it.FirstToken) / float64(time.Millisecond),
			TotalMS: float64(it.Total) / float64(time.Millisecond), FinishReason: it.FinishReason, Error: it.Error, Tags: tags, Archived: it.Archived})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("export generations as JSON: %w", err)
	}
	return nil
}
