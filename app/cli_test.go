package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"deskbot/engine"
)

var update = flag.Bool("update", false, "rewrite docs/activities.md")

// TestDocsUpToDate fails when docs/activities.md differs from what the specs
// generate (run `make docs` or go test ./app -update).
func TestDocsUpToDate(t *testing.T) {
	want := engine.Markdown(engine.Default)
	path := filepath.Join("..", "docs", "activities.md")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run `make docs`", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/activities.md is stale: run `make docs`")
	}
	for _, s := range engine.Default.Specs() {
		if s.Summary == "" || s.Title == "" || s.Category == "" {
			t.Errorf("%s: spec lacks title, category or summary", s.Type)
		}
		for _, f := range s.Fields {
			if f.Kind == "" {
				t.Errorf("%s.%s: field without kind", s.Type, f.Name)
			}
		}
	}
}

var binPath string

// deskbot builds the binary once per test run.
func deskbot(t *testing.T) string {
	t.Helper()
	if binPath != "" {
		return binPath
	}
	dir, err := os.MkdirTemp("", "deskbot-bin")
	if err != nil {
		t.Fatal(err)
	}
	binPath = filepath.Join(dir, "deskbot")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary with its data folder (see runEnv).
func run(t *testing.T, data string, args ...string) result {
	t.Helper()
	return runEnv(t, []string{"DESKBOT_DATA=" + data}, "", args...)
}

func TestCLISamplesRunAndAreRecorded(t *testing.T) {
	data := t.TempDir()
	samples, _ := filepath.Glob("../assets/flows/*.json")
	if len(samples) < 3 {
		t.Fatalf("want at least 3 samples, have %v", samples)
	}
	for _, s := range samples {
		if r := run(t, data, "lint", s); r.code != 0 {
			t.Errorf("lint %s: %d\n%s%s", s, r.code, r.stdout, r.stderr)
		}
	}
	for _, name := range []string{"csv-to-letters", "invoice-summary", "tidy-inbox"} {
		out := t.TempDir()
		r := run(t, data, "run", "../assets/flows/"+name+".json", "--var", "out_dir="+out)
		if r.code != 0 {
			t.Fatalf("run %s: exit %d\n%s\n%s", name, r.code, r.stdout, r.stderr)
		}
		if !regexp.MustCompile(`(?m)^run \S+ ok: \d+ steps`).MatchString(r.stdout) {
			t.Errorf("%s: no summary line:\n%s", name, r.stdout)
		}
	}
	// The AI sample writes one note per customer with a local GPT-2 (the
	// small real checkpoint of the tests; its weights are random).
	model, _ := filepath.Abs(tinyModel)
	notes := t.TempDir()
	if r := run(t, data, "run", "../assets/flows/ai-thank-you-notes.json", "--var", "out_dir="+notes, "--var", "model="+model); r.code != 0 {
		t.Fatalf("run ai-thank-you-notes: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got, _ := filepath.Glob(filepath.Join(notes, "thanks-*.txt")); len(got) != 4 {
		t.Errorf("%d notes, want 4", len(got))
	}
	if b, _ := os.ReadFile(filepath.Join(notes, "thanks-1001.txt")); !strings.HasPrefix(string(b), "Müller Bäckerei GmbH\nAttn. Anna Müller\n\nDear Anna,\n\n") || len(b) < 80 {
		t.Errorf("note 1001:\n%s", b)
	}
	// The letters sample wrote one letter per customer.
	out := t.TempDir()
	run(t, data, "run", "../assets/flows/csv-to-letters.json", "--var", "out_dir="+out)
	letters, _ := filepath.Glob(filepath.Join(out, "letter-*.txt"))
	if len(letters) != 4 {
		t.Fatalf("%d letters, want 4", len(letters))
	}
	b, _ := os.ReadFile(filepath.Join(out, "letter-1001.txt"))
	if !strings.Contains(string(b), "Dear Anna,") || !strings.Contains(string(b), "EUR 1250.00") {
		t.Errorf("letter 1001:\n%s", b)
	}
	b, _ = os.ReadFile(filepath.Join(out, "letter-1002.txt"))
	if !strings.Contains(string(b), "fully paid") {
		t.Errorf("letter 1002:\n%s", b)
	}
	// History lists the runs; show-run shows the steps.
	r := run(t, data, "runs", "--flow", "CSV to letters")
	if r.code != 0 || strings.Count(r.stdout, "CSV to letters") != 2 || !strings.Contains(r.stdout, " ok ") {
		t.Fatalf("runs:\n%s%s", r.stdout, r.stderr)
	}
	id := strings.Fields(strings.Split(r.stdout, "\n")[1])[0]
	r = run(t, data, "show-run", "--vars", id)
	if r.code != 0 || !strings.Contains(r.stdout, "file.write_text") || !strings.Contains(r.stdout, "letter") || !strings.Contains(r.stdout, "written = 4") {
		t.Fatalf("show-run:\n%s%s", r.stdout, r.stderr)
	}
}

func TestCLIFailureNamesNode(t *testing.T) {
	data := t.TempDir()
	flow := filepath.Join(t.TempDir(), "f.json")
	f := engine.NewFlow("failing")
	f.Nodes = append(f.Nodes, &engine.Node{ID: "boom", Type: "control.fail", Params: map[string]any{"message": "customer list is empty"}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "boom"}}
	f.Save(flow)
	r := run(t, data, "run", flow)
	if r.code != 1 || !strings.Contains(r.stderr, `node "boom"`) || !strings.Contains(r.stderr, "customer list is empty") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, data, "runs")
	if !strings.Contains(r.stdout, "failed") {
		t.Errorf("failed run not recorded:\n%s", r.stdout)
	}
	// show-run shows the failing step's inputs.
	id := strings.Fields(strings.Split(r.stdout, "\n")[1])[0]
	r = run(t, data, "show-run", id)
	if r.code != 0 || !strings.Contains(r.stdout, `inputs: {"message":"customer list is empty"}`) {
		t.Errorf("show-run:\n%s%s", r.stdout, r.stderr)
	}
	// JSON output: one object per line, the last one run_finished.
	r = run(t, data, "run", "--json", flow)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if last["event"] != "run_finished" || last["status"] != "failed" {
		t.Errorf("last event %v", last)
	}
	// The failing step's event carries its inputs.
	if !strings.Contains(r.stdout, `"inputs":{"message":"customer list is empty"}`) {
		t.Errorf("no inputs in the JSON events:\n%s", r.stdout)
	}
}

// The line printer shows no inputs, so it does not ask the run to collect
// them; the JSON printer does.
func TestPrintersWantInputs(t *testing.T) {
	if (engine.Observers{&linePrinter{w: io.Discard}}).WantsInputs() {
		t.Error("the line printer asks for inputs")
	}
	if !(engine.Observers{&linePrinter{w: io.Discard}, &jsonPrinter{}}).WantsInputs() {
		t.Error("the JSON printer gets no inputs")
	}
}

func TestCLILintAndLoadErrors(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"deskbot.flow","version":1,"nodes":[{"id":"start","type":"control.start"},{"id":"x","type":"file.read_txt"}],"edges":[{"from":"start","port":"next","to":"x"}]}`), 0o644)
	r := run(t, data, "lint", bad)
	if r.code != 1 || !strings.Contains(r.stdout, `node "x"`) || !strings.Contains(r.stdout, `did you mean "file.read_text"`) {
		t.Errorf("lint: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte("{\n  \"format\": \"deskbot.flow\",\n  \"nodes\": [,]\n}"), 0o644)
	r = run(t, data, "run", broken)
	if r.code != 1 || !strings.Contains(r.stderr, "broken.json") || !strings.Contains(r.stderr, "line 3, column 13") {
		t.Errorf("run broken: %d\n%s", r.code, r.stderr)
	}
	r = run(t, data, "run", filepath.Join(dir, "missing.json"))
	if r.code != 1 || !strings.Contains(r.stderr, "missing.json") {
		t.Errorf("run missing: %d\n%s", r.code, r.stderr)
	}
}

func TestCLIDryRunTouchesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "letters")
	r := run(t, t.TempDir(), "run", "--dry-run", "../assets/flows/csv-to-letters.json", "--var", "out_dir="+out)
	if r.code != 0 || !strings.Contains(r.stdout, "dry run: would write") {
		t.Fatalf("dry run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("dry run created %s", out)
	}
}

// TestCLIDryRunDesktop: a dry run of the desktop sample uses the recording
// fake. It runs without a display (DISPLAY unset, so any real desktop call
// would fail) and says what each desktop step would do.
func TestCLIDryRunDesktop(t *testing.T) {
	cmd := exec.Command(deskbot(t), "run", "--dry-run", "--no-record", "../assets/flows/fill-form-from-csv.json")
	cmd.Env = append(envWithout("DISPLAY"), "DESKBOT_DATA="+t.TempDir())
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{
		`would activate the window titled "Deskbot Test Form"`,
		`would type "Anna Kowalska"`,
		"would press ctrl+a",
		"would click left at",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+\d+ dry\s+type_name\s+keyboard\.type`).MatchString(out) {
		t.Errorf("desktop steps are not marked dry:\n%s", out)
	}
	if strings.Contains(out, "Fyne error") {
		t.Errorf("fyne's locale noise in a headless command:\n%s", out)
	}
}

// TestCLIRunDesktopWithoutDisplay: a real run of a desktop flow without a
// display fails at its first desktop step, naming the node and the cause.
func TestCLIRunDesktopWithoutDisplay(t *testing.T) {
	cmd := exec.Command(deskbot(t), "run", "--no-record", "../assets/flows/fill-form-from-csv.json")
	cmd.Env = append(envWithout("DISPLAY"), "DESKBOT_DATA="+t.TempDir())
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	if err == nil {
		t.Fatalf("a desktop run without a display succeeded:\n%s", out)
	}
	if !strings.Contains(out, `"activate"`) || !strings.Contains(out, "DISPLAY is not set") {
		t.Errorf("the error does not name the node and the cause:\n%s", out)
	}
}

// envWithout is the environment less the variable name.
func envWithout(name string) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, name+"=") {
			env = append(env, e)
		}
	}
	return env
}

// TestStudioWithoutDisplay: the studio without an X display says so and
// exits, instead of the GUI toolkit's panic.
func TestStudioWithoutDisplay(t *testing.T) {
	for _, display := range []string{"", ":987"} {
		cmd := exec.Command(deskbot(t))
		cmd.Env = append(envWithout("DISPLAY"), "DESKBOT_DATA="+t.TempDir())
		if display != "" {
			cmd.Env = append(cmd.Env, "DISPLAY="+display)
		}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("DISPLAY=%q: %v, want exit code 1\n%s", display, err, out)
		}
		if !strings.Contains(string(out), "DISPLAY") && !strings.Contains(string(out), "X display") || strings.Contains(string(out), "panic") {
			t.Errorf("DISPLAY=%q: unclear message:\n%s", display, out)
		}
	}
}
