// Command genhelper opens a Deskbot database, saves one generation and
// searches for a word: TestSearch_BinaryWithoutFTS5 builds it without the
// sqlite_fts5 tag to play an older or differently built deskbot sharing
// the data folder.
//
//	genhelper DB PROMPT WORD
//
// It prints "fts=BOOL found=N".
package main

import (
	"context"
	"fmt"
	"os"

	"deskbot/engine/textgen"
	"deskbot/store"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: genhelper DB PROMPT WORD")
		os.Exit(2)
	}
	db, err := store.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.SaveGeneration(ctx, textgen.Generation{Provider: "gpt2", Model: "gpt2 (local)", Prompt: os.Args[2], Output: "-"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	items, err := db.SearchGenerations(ctx, store.GenerationQuery{Text: os.Args[3]})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("fts=%v found=%d\n", db.FullTextSearch(), len(items))
}
