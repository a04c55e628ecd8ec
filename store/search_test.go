package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"deskbot/engine/textgen"
	"deskbot/store"
	"deskbot/store/storetest"
)

// genDB is a database file with runs of two flows and six generations
// saved through SaveGeneration (so the search index's triggers see them).
func genDB(t testing.TB) (*store.DB, time.Time) {
	t.Helper()
	db, _ := MustOpenFile(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	runs := []storetest.Run{
		{ID: "run-inv", Flow: "invoices", Start: base, Dur: time.Minute, Status: "ok"},
		{ID: "run-zh", Flow: "发票处理", Start: base, Dur: time.Minute, Status: "ok"},
	}
	if err := storetest.Seed(ctx, db, storetest.Slice(runs), nil); err != nil {
		t.Fatal(err)
	}
	gens := []textgen.Generation{
		{RunID: "run-inv", Provider: "gpt2", Model: "gpt2 (local)", Prompt: "Reply to the invoice from Anna", Output: "Dear Anna, thank you for the invoice."},
		{RunID: "run-inv", Provider: "gpt2", Model: "gpt2 (local)", Prompt: "Write an e-mail to Bram", Output: "Hello Bram, about your e-mail."},
		{RunID: "run-zh", Provider: "api:work", Model: "qwen2.5", Prompt: "请处理发票", Output: "好的，发票号是 12345。"},
		{RunID: "run-zh", Provider: "api:work", Model: "qwen2.5", Prompt: "写一封感谢信", Output: "非常感谢您的帮助。", Error: "stream cut off"},
		{Provider: "api:work", Model: "gpt-4o-mini", Prompt: "Summarise the INVOICE list", Output: "Three invoices are due."},
		{Provider: "gpt2", Model: "gpt2 (local)", Prompt: "ok", Output: "ab"},
	}
	for i, g := range gens {
		g.Created = base.Add(time.Duration(i) * time.Hour)
		if err := db.SaveGeneration(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	return db, base
}

// prompts lists the items' prompts.
func prompts(items []store.GenerationItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Prompt)
	}
	return out
}

func search(t *testing.T, db *store.DB, q store.GenerationQuery) []string {
	t.Helper()
	items, err := db.SearchGenerations(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return prompts(items)
}

func TestSearchGenerations_Words(t *testing.T) {
	db, _ := genDB(t)
	if db.FullTextSearch() != builtWithFTS5 {
		t.Fatalf("FullTextSearch %v in a binary built with FTS5 %v", db.FullTextSearch(), builtWithFTS5)
	}
	migs, _ := db.Migrations(context.Background())
	if slices.Contains(migs, "fts5/generations_fts.sql") != builtWithFTS5 || !slices.Contains(migs, "006_generation_tags.sql") {
		t.Fatalf("migrations %v", migs)
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		// Newest first; any case; in the prompt or the output.
		{"invoice", []string{"Summarise the INVOICE list", "Reply to the invoice from Anna"}},
		{"  Invoice   anna ", []string{"Reply to the invoice from Anna"}},
		{"发票", []string{"请处理发票"}},  // two characters: shorter than a trigram
		{"发票号", []string{"请处理发票"}}, // in the output
		{"感谢", []string{"写一封感谢信"}}, // failed generations are listed too
		{"nothing-like-this", nil},
		{"", []string{"ok", "Summarise the INVOICE list", "写一封感谢信", "请处理发票", "Write an e-mail to Bram", "Reply to the invoice from Anna"}},
	} {
		if c.text == "nothing-like-this" && builtWithFTS5 {
			continue // FTS5 syntax: see TestSearchGenerations_Syntax
		}
		if got := search(t, db, store.GenerationQuery{Text: c.text}); !reflect.DeepEqual(got, c.want) {
			t.Errorf("search %q: %q, want %q", c.text, got, c.want)
		}
	}
	// A short word is a substring anywhere: "ab" is in "ab" and in "about".
	if got := search(t, db, store.GenerationQuery{Text: "ab"}); !reflect.DeepEqual(got, []string{"ok", "Write an e-mail to Bram"}) {
		t.Errorf("search ab: %q", got)
	}
}

func TestSearchGenerations_Syntax(t *testing.T) {
	db, _ := genDB(t)
	ctx := context.Background()
	if !builtWithFTS5 {
		// Without FTS5 every text is words, and quotes are ignored.
		if got := search(t, db, store.GenerationQuery{Text: `"e-mail" bram`}); !reflect.DeepEqual(got, []string{"Write an e-mail to Bram"}) {
			t.Fatalf("LIKE search: %q", got)
		}
		return
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		{`"e-mail"`, []string{"Write an e-mail to Bram"}},
		{`invoice OR 发票号`, []string{"Summarise the INVOICE list", "请处理发票", "Reply to the invoice from Anna"}},
		{`invoice NOT anna`, []string{"Summarise the INVOICE list"}},
		{`prompt: invoice`, []string{"Summarise the INVOICE list", "Reply to the invoice from Anna"}},
		{`output: invoice`, []string{"Summarise the INVOICE list", "Reply to the invoice from Anna"}},
		{`output: "thank you"`, []string{"Reply to the invoice from Anna"}},
	} {
		if got := search(t, db, store.GenerationQuery{Text: c.text}); !reflect.DeepEqual(got, c.want) {
			t.Errorf("search %q: %q, want %q", c.text, got, c.want)
		}
	}
	for _, bad := range []string{`e-mail`, `"unterminated`, `invoice AND`, `NEAR(a b`, `nosuchcolumn: x`, `(`} {
		_, err := db.SearchGenerations(ctx, store.GenerationQuery{Text: bad})
		if !errors.Is(err, store.ErrBadSearch) || !strings.Contains(err.Error(), "search "+`"`) {
			t.Errorf("search %q: %v, want ErrBadSearch", bad, err)
		}
	}
	_, err := db.SearchGenerations(ctx, store.GenerationQuery{Text: "e-mail"})
	if !strings.Contains(err.Error(), `double quotes`) {
		t.Errorf("the error does not say what to do: %v", err)
	}
}

func TestSearchGenerations_Filters(t *testing.T) {
	db, base := genDB(t)
	for _, c := range []struct {
		name string
		q    store.GenerationQuery
		want []string
	}{
		{"flow", store.GenerationQuery{Flow: "invoices"}, []string{"Write an e-mail to Bram", "Reply to the invoice from Anna"}},
		{"chinese flow", store.GenerationQuery{Flow: "发票处理", Text: "发票"}, []string{"请处理发票"}},
		{"model", store.GenerationQuery{Model: "gpt-4o-mini"}, []string{"Summarise the INVOICE list"}},
		{"provider", store.GenerationQuery{Provider: "api:work", Text: "invoice"}, []string{"Summarise the INVOICE list"}},
		{"dates", store.GenerationQuery{Since: base.Add(time.Hour), Until: base.Add(3 * time.Hour)}, []string{"请处理发票", "Write an e-mail to Bram"}},
		{"limit", store.GenerationQuery{Limit: 1}, []string{"ok"}},
	} {
		if got := search(t, db, c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	items, _ := db.SearchGenerations(context.Background(), store.GenerationQuery{Flow: "发票处理"})
	if len(items) != 2 || items[0].Flow != "发票处理" || items[0].Error != "stream cut off" || items[1].RunID != "run-zh" || items[1].Model != "qwen2.5" {
		t.Fatalf("%+v", items)
	}
}

func TestGenerations_TagArchiveExport(t *testing.T) {
	db, _ := genDB(t)
	ctx := context.Background()
	all, _ := db.SearchGenerations(ctx, store.GenerationQuery{})
	id := func(prompt string) int64 {
		for _, it := range all {
			if it.Prompt == prompt {
				return it.ID
			}
		}
		t.Fatalf("no %q", prompt)
		return 0
	}
	anna, zh, sum := id("Reply to the invoice from Anna"), id("请处理发票"), id("Summarise the INVOICE list")
	if err := db.TagGenerations(ctx, []int64{anna, zh}, "  good   reply "); err != nil {
		t.Fatal(err)
	}
	if err := db.TagGenerations(ctx, []int64{zh}, "待检查"); err != nil {
		t.Fatal(err)
	}
	if err := db.TagGenerations(ctx, []int64{zh}, "good reply"); err != nil { // again: no change, no error
		t.Fatal(err)
	}
	if got := search(t, db, store.GenerationQuery{Tag: "good reply"}); !reflect.DeepEqual(got, []string{"请处理发票", "Reply to the invoice from Anna"}) {
		t.Fatalf("tag filter: %q", got)
	}
	items, _ := db.GenerationsByID(ctx, []int64{zh, 999999})
	if len(items) != 1 || !reflect.DeepEqual(items[0].Tags, []string{"good reply", "待检查"}) {
		t.Fatalf("%+v", items)
	}
	// A missing id changes nothing.
	if err := db.TagGenerations(ctx, []int64{sum, 999999}, "x"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "999999") {
		t.Fatalf("missing id: %v", err)
	}
	if got := search(t, db, store.GenerationQuery{Tag: "x"}); got != nil {
		t.Fatalf("a failed tagging tagged %q", got)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("长", store.MaxTagRunes+1), "a\x00b"} {
		if err := db.TagGenerations(ctx, []int64{sum}, bad); err == nil {
			t.Errorf("tag %q accepted", bad)
		}
	}
	if err := db.UntagGenerations(ctx, []int64{anna}, "good reply"); err != nil {
		t.Fatal(err)
	}
	if got := search(t, db, store.GenerationQuery{Tag: "good reply"}); !reflect.DeepEqual(got, []string{"请处理发票"}) {
		t.Fatalf("after untag: %q", got)
	}

	// The archive hides texts from the default list.
	if err := db.ArchiveGenerations(ctx, []int64{anna, sum}, true); err != nil {
		t.Fatal(err)
	}
	if got := search(t, db, store.GenerationQuery{Text: "invoice"}); got != nil {
		t.Fatalf("archived texts listed: %q", got)
	}
	if got := search(t, db, store.GenerationQuery{Text: "invoice", Archive: store.OnlyArchived}); len(got) != 2 {
		t.Fatalf("archive: %q", got)
	}
	if err := db.ArchiveGenerations(ctx, []int64{sum}, false); err != nil {
		t.Fatal(err)
	}
	if got := search(t, db, store.GenerationQuery{Text: "invoice", Archive: store.AnyArchived}); len(got) != 2 {
		t.Fatalf("any: %q", got)
	}
	if got := search(t, db, store.GenerationQuery{Text: "invoice"}); !reflect.DeepEqual(got, []string{"Summarise the INVOICE list"}) {
		t.Fatalf("unarchived: %q", got)
	}
	ch, err := db.GenerationChoices(ctx)
	if err != nil || !reflect.DeepEqual(ch, store.GenerationChoices{Flows: []string{"invoices", "发票处理"},
		Models: []string{"gpt-4o-mini", "gpt2 (local)", "qwen2.5"}, Tags: []string{"good reply", "待检查"}}) {
		t.Fatalf("%+v %v", ch, err)
	}

	// Export: CSV (with a BOM for Excel) and JSON, read back.
	sel, _ := db.GenerationsByID(ctx, []int64{zh, anna})
	var buf bytes.Buffer
	if err := store.WriteGenerationsCSV(&buf, sel); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\uFEFF")) {
		t.Fatal("no BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(store.GenerationColumns, name) }
	if len(recs) != 3 || !reflect.DeepEqual(recs[0], store.GenerationColumns) || recs[1][col("prompt")] != "请处理发票" ||
		recs[1][col("output")] != "好的，发票号是 12345。" || recs[1][col("flow")] != "发票处理" || recs[1][col("tags")] != "good reply, 待检查" ||
		recs[2][col("archived")] != "true" || recs[2][col("prompt")] != "Reply to the invoice from Anna" {
		t.Fatalf("%q", recs)
	}
	buf.Reset()
	if err := store.WriteGenerationsJSON(&buf, sel); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0]["prompt"] != "请处理发票" || !reflect.DeepEqual(back[0]["tags"], []any{"good reply", "待检查"}) ||
		back[1]["archived"] != true || !reflect.DeepEqual(back[1]["tags"], []any{}) || back[0]["model"] != "qwen2.5" {
		t.Fatalf("%s", buf.Bytes())
	}
	for _, k := range store.GenerationColumns {
		if _, ok := back[0][k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}
