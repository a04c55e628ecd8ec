package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An API whose 401 answer echoes the key: a recorded text.generate run
// must leave the key nowhere, not in the history database's files, the
// run's log (show-run), the model history, stdout or stderr.
func TestCLISecretsNeverLeak(t *testing.T) {
	// Not sk- shaped: only the profile's key being known masks it.
	const key = "deskbot-e2e-private-key-5f3a9c"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s. Header was Authorization: Bearer %s","type":"invalid_request_error","code":"invalid_api_key"}}`, got, got)
	}))
	defer srv.Close()
	data := t.TempDir()
	env := []string{"DESKBOT_DATA=" + data, "DESKBOT_API_KEY_ECHO=" + key}
	if r := runEnv(t, env, "", "model", "provider", "add", "echo", "--url", srv.URL+"/v1", "--model", "m", "--retries", "0"); r.code != 0 {
		t.Fatalf("provider add: %s", r.stderr)
	}
	dir := t.TempDir()
	// The first call's error is caught into a variable and logged, the
	// second one fails the run.
	flow := `{"format":"deskbot.flow","version":1,"name":"leak",
	"nodes":[{"id":"start","type":"control.start"},
	 {"id":"first","type":"text.generate","params":{"provider":"api:echo","prompt":"Hello","max_tokens":5,"output":"a"},"error_var":"why"},
	 {"id":"say","type":"control.log","params":{"message":"first failed: {{ why }}"}},
	 {"id":"second","type":"text.generate","params":{"provider":"api:echo","prompt":"Hello","max_tokens":5,"output":"b"}}],
	"edges":[{"from":"start","port":"next","to":"first"},{"from":"first","port":"error","to":"say"},{"from":"say","port":"next","to":"second"}]}`
	path := filepath.Join(dir, "leak.json")
	os.WriteFile(path, []byte(flow), 0o644)

	var out strings.Builder
	r := runEnv(t, env, "", "run", path)
	out.WriteString(r.stdout + r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, "API key was rejected") || !strings.Contains(r.stdout, "first failed") {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rj := runEnv(t, env, "", "run", "--json", path)
	out.WriteString(rj.stdout + rj.stderr)
	runID := strings.TrimSuffix(strings.Fields(r.stdout)[1], ":")
	for _, args := range [][]string{{"show-run", "--vars", runID}, {"runs"}, {"model", "history"}, {"model", "history", "--json"},
		{"generate", "--model", "api:echo", "--prompt", "x"}, {"generate", "--model", "api:echo", "--prompt", "x", "--json"},
		{"model", "provider", "test", "echo"}} {
		r := runEnv(t, env, "", args...)
		out.WriteString(r.stdout + r.stderr)
	}
	if strings.Contains(out.String(), key) {
		t.Errorf("the key was printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[redacted]") || !strings.Contains(out.String(), "HTTP 401") {
		t.Errorf("the output should still say what happened:\n%s", out.String())
	}
	// Every file of the data folder: the database, its WAL, artifacts.
	n := 0
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		n++
		if strings.Contains(string(b), key) {
			t.Errorf("%s holds the key", p)
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no files in the data folder")
	}
}
