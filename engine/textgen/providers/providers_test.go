package providers

import (
	"context"
	"strings"
	"testing"

	"deskbot/model"
)

func TestOpenLocalFolderAndErrors(t *testing.T) {
	t.Setenv("DESKBOT_MODELS", t.TempDir())
	t.Setenv("DESKBOT_DATA", t.TempDir())
	var last [2]int64
	g, err := Open(context.Background(), "../../../model/gpt2/testdata/hf-fake-gpt2", OpenOptions{Threads: 1, Quant: "q8",
		Progress: func(p string, done, total int64) { last = [2]int64{done, total} }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if last[1] == 0 || last[0] != last[1] {
		t.Fatalf("load progress ended at %v", last)
	}
	if !strings.Contains(g.Name(), "hf-fake-gpt2") {
		t.Fatalf("name %q", g.Name())
	}
	res, err := g.Generate(context.Background(), model.Request{Prompt: "Hello", MaxTokens: 2}, nil)
	if err != nil || res.OutputTokens != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := Open(context.Background(), "gpt2-medium", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "deskbot model pull gpt2-medium") {
		t.Fatalf("not installed: %v", err)
	}
	if _, err := Open(context.Background(), "api:work/gpt-4o", OpenOptions{}); err == nil || !strings.Contains(err.Error(), `no API profile "work"`) {
		t.Fatalf("missing profile: %v", err)
	}
	if _, err := Open(context.Background(), "../../../model/gpt2/testdata/hf-fake-gpt2", OpenOptions{Quant: "q3"}); err == nil || !strings.Contains(err.Error(), "q3") {
		t.Fatalf("bad quant: %v", err)
	}
}
