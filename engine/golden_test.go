package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"deskbot/engine"
	_ "deskbot/engine/activities"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func init() {
	// test.flaky fails until it has been tried `succeed_on` times in a run.
	engine.Register(engine.Spec{
		Type: "test.flaky", Title: "Flaky (tests only)", Category: "Test",
		Fields: []engine.Field{{Name: "succeed_on", Kind: engine.KindInt, Required: true}},
		New: func(p *engine.Params) (engine.Activity, error) {
			n := p.Int("succeed_on")
			tries := 0
			return engine.ActivityFunc(func(context.Context, *engine.Call) (string, error) {
				tries++
				if tries < n {
					return "", fmt.Errorf("flaky failure %d", tries)
				}
				return "", nil
			}), nil
		},
	})
}

// eventLine renders an event without times, so runs compare exactly.
func eventLine(e engine.Event, tmp, flowDir string) string {
	clean := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, tmp, "$TMP"), flowDir, "$FLOW")
	}
	ind := strings.Repeat("  ", e.Depth)
	switch e.Kind {
	case engine.EventStepStarted:
		return fmt.Sprintf("%s%d start %s (%s) attempt %d", ind, e.Seq, e.NodeID, e.Type, e.Attempt)
	case engine.EventStepFinished:
		s := fmt.Sprintf("%s%d finish %s %s", ind, e.Seq, e.NodeID, e.Status)
		if e.Port != "" {
			s += " -> " + e.Port
		}
		if e.Err != "" {
			s += " error: " + clean(e.Err)
		}
		return s
	case engine.EventLog:
		return fmt.Sprintf("%s  log %s %s: %s", ind, e.Level, e.NodeID, clean(e.Message))
	case engine.EventRunFinished:
		s := fmt.Sprintf("run %s after %d steps", e.Status, e.Seq)
		if e.Err != "" {
			s += " error: " + clean(e.Err)
		}
		keys := make([]string, 0, len(e.Vars))
		for k := range e.Vars {
			if k != "run_id" && k != "flow_dir" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			b, _ := json.Marshal(e.Vars[k])
			s += fmt.Sprintf("\n  %s = %s", k, clean(string(b)))
		}
		return s
	}
	return fmt.Sprintf("%s%s %s", ind, e.Kind, e.NodeID)
}

// TestGolden runs each testdata/golden/CASE/flow.json and compares the event
// sequence with CASE/events.golden. CASE/inputs.json, if present, holds the
// run's inputs; "$TMP" in a string input is a fresh temp folder, whose files
// are listed after the events. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/golden/*/flow.json")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, path := range cases {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			f, err := engine.LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			inputs := map[string]any{}
			if b, err := os.ReadFile(filepath.Join(dir, "inputs.json")); err == nil {
				if err := json.Unmarshal(b, &inputs); err != nil {
					t.Fatal(err)
				}
				for k, v := range inputs {
					if s, ok := v.(string); ok {
						inputs[k] = strings.ReplaceAll(s, "$TMP", tmp)
					}
				}
			}
			abs, _ := filepath.Abs(dir)
			var rec engine.Recorder
			opts := engine.Options{Observer: &rec, Inputs: inputs, BaseDir: abs, RunID: "golden"}
			if _, err := os.Stat(filepath.Join(dir, "dry")); err == nil {
				opts.DryRun = true
			}
			res, runErr := engine.Run(context.Background(), f, opts)
			var b strings.Builder
			for _, e := range rec.Events() {
				if e.Kind == engine.EventRunStarted {
					continue
				}
				b.WriteString(eventLine(e, tmp, abs))
				b.WriteByte('\n')
			}
			if (runErr == nil) != (res.Status == engine.StatusOK) {
				t.Errorf("status %q but error %v", res.Status, runErr)
			}
			var se *engine.StepError
			if runErr != nil && !errors.As(runErr, &se) {
				t.Errorf("run error %v does not name a node", runErr)
			}
			filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					data, _ := os.ReadFile(p)
					rel, _ := filepath.Rel(tmp, p)
					fmt.Fprintf(&b, "file %s:\n%s\n", rel, data)
				}
				return nil
			})
			golden := filepath.Join(dir, "events.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("events differ from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
