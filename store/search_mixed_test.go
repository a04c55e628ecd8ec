//go:build sqlite_fts5 || fts5

package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"deskbot/engine/textgen"
	"deskbot/store"
)

// A deskbot built without FTS5 shares the data folder with one built with
// it: it opens the database that has the index, drops the index's
// triggers (it could not save generations otherwise), saves one and finds
// it with LIKE; the next open with FTS5 rebuilds the index, and both
// texts are found through it.
func TestSearch_BinaryWithoutFTS5(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a helper binary")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, store.FileName)
	ctx := context.Background()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !db.FullTextSearch() {
		t.Fatal("no FTS5 in a binary built with the tag")
	}
	if err := db.SaveGeneration(ctx, textgen.Generation{Provider: "gpt2", Model: "m", Prompt: "Rechnung für Anna", Output: "-"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	helper := filepath.Join(dir, "genhelper")
	build := exec.Command("go", "build", "-o", helper, "./testdata/genhelper")
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOFLAGS=") {
			env = append(env, e)
		}
	}
	build.Env = append(env, "GOFLAGS=") // no sqlite_fts5 tag
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the helper: %v\n%s", err, out)
	}
	out, err := exec.Command(helper, path, "Rechnung für Bram", "Rechnung").CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "fts=false found=2" {
		t.Fatalf("helper said %q", got)
	}

	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// An FTS5 query (NOT) proves the index answers, and it has Bram.
	items, err := db.SearchGenerations(ctx, store.GenerationQuery{Text: "Rechnung NOT Anna"})
	if err != nil {
		t.Fatal(err)
	}
	if got := prompts(items); !reflect.DeepEqual(got, []string{"Rechnung für Bram"}) {
		t.Fatalf("after the rebuild: %q", got)
	}
	if err := db.SaveGeneration(ctx, textgen.Generation{Provider: "gpt2", Model: "m", Prompt: "Rechnung für Cem", Output: "-"}); err != nil {
		t.Fatal(err)
	}
	if items, _ := db.SearchGenerations(ctx, store.GenerationQuery{Text: "Rechnung"}); len(items) != 3 {
		t.Fatalf("the triggers are not back: %q", prompts(items))
	}
}
