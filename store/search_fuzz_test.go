package store_test

import (
	"context"
	"errors"
	"testing"

	"deskbot/store"
)

// FuzzSearchGenerations: whatever the search text, SearchGenerations
// returns generations or ErrBadSearch (FTS5 syntax errors made clear),
// never another error and never a crash.
func FuzzSearchGenerations(f *testing.F) {
	db, _ := genDB(f)
	for _, s := range []string{"invoice", "发票", `"e-mail"`, "e-mail", `"unterminated`, "a OR", "NOT", "NEAR(a b", "NEAR(a b, 1)",
		"prompt: x", "output:", "{prompt output}: x", "*", "a*", "^a", "(a OR b) AND c", `""`, "\x00", "\xff\xfe", "%_\\", "col:", "-x", "+", "a:b:c"} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, text string) {
		items, err := db.SearchGenerations(ctx, store.GenerationQuery{Text: text, Archive: store.AnyArchived})
		if err != nil && !errors.Is(err, store.ErrBadSearch) {
			t.Fatalf("search %q: %v", text, err)
		}
		if len(items) > 6 {
			t.Fatalf("search %q: %d items of 6", text, len(items))
		}
	})
}
