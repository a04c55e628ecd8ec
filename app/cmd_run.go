package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"deskbot/engine"
	"deskbot/engine/textgen"
	"deskbot/model/gpt2"
	"deskbot/report"
	"deskbot/store"
)

func init() {
	commands["run"] = command{"run a flow headless: deskbot run FLOW.json [--var k=v]... [--dry-run] [--json]", cmdRun}
}

type varFlags map[string]any

func (v varFlags) String() string { return "" }
func (v varFlags) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("--var wants name=value, got %q", s)
	}
	v[k] = val
	return nil
}

func cmdRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	vars := varFlags{}
	fs.Var(vars, "var", "set an input variable: --var name=value (repeatable)")
	dry := fs.Bool("dry-run", false, "describe side effects (files, programs, desktop) instead of doing them")
	asJSON := fs.Bool("json", false, "print events as JSON lines")
	data := fs.String("data", "", "data folder (default $DESKBOT_DATA or the user config folder)")
	noRecord := fs.Bool("no-record", false, "do not record the run in the history database")
	threads := fs.Int("threads", 0, fmt.Sprintf("local models: kernel threads (0 = the physical cores: %d here)", gpt2.PhysicalCores()))
	quant := fs.String("quant", "", "local models: "+strings.Join(gpt2.QuantModes, " or ")+" quantises the weights at load")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: deskbot run FLOW.json [--var k=v]... [--dry-run] [--json] [--data DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if *threads < 0 || *quant != "" && !slices.Contains(gpt2.QuantModes, *quant) {
		fmt.Fprintf(os.Stderr, "deskbot run: --threads must not be negative; --quant is one of %s\n", strings.Join(gpt2.QuantModes, ", "))
		return 2
	}
	setLocalModel(*threads, *quant)
	path := fs.Arg(0)
	if cp, err := installedSampleCopy(path); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	} else if cp != "" {
		fmt.Fprintf(os.Stderr, "deskbot: %s is an installed sample; running its copy %s\n", path, cp)
		path = cp
	}
	f, err := engine.LoadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	abs, _ := filepath.Abs(filepath.Dir(path))

	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stop(engine.ErrStoppedByUser)
	}()

	var printer engine.Observer = &linePrinter{w: os.Stdout}
	var jp *jsonPrinter
	if *asJSON {
		jp = &jsonPrinter{enc: json.NewEncoder(os.Stdout)}
		printer = jp
	}
	opts := engine.Options{Observer: printer, DryRun: *dry, Inputs: map[string]any(vars), BaseDir: abs, RunID: store.NewRunID(), Path: absPath(path)}

	var rec *store.Recorder
	if !*noRecord {
		db, err := openStore(*data)
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskbot:", err)
			return 1
		}
		defer db.Close()
		doc, _ := f.Marshal()
		version, err := db.SaveFlow(ctx, f.Name, absPath(path), doc)
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskbot:", err)
			return 1
		}
		rec, err = db.Recorder(ctx, store.RunInfo{ID: opts.RunID, Flow: f.Name, FlowVersion: version, Path: absPath(path), DryRun: *dry, History: f.Settings.History})
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskbot:", err)
			return 1
		}
		opts.ArtifactDir = db.ArtifactDir(opts.RunID)
		textgen.WithLog(&opts, db)
		report.WithStore(&opts, db)
		opts.Observer = engine.Observers{rec, printer}
	}
	if err := wireServices(ctx, stop, &opts); err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	// Dialogs ask on the terminal; with --json, stdout carries the events,
	// so the questions go to stderr.
	var ask io.Writer = os.Stdout
	if *asJSON {
		ask = os.Stderr
	}
	wireDialogs(&opts, os.Stdin, ask)
	res, runErr := engine.Run(ctx, f, opts)
	if rec != nil {
		if err := rec.Close(res); err != nil {
			fmt.Fprintln(os.Stderr, "deskbot: recording the run:", err)
		}
	}
	if jp != nil && jp.err != nil {
		// The events on stdout are incomplete: that is a failure, whatever
		// the run's status.
		fmt.Fprintln(os.Stderr, "deskbot: printing the run's events:", jp.err)
		return 1
	}
	if runErr != nil {
		if !*asJSON {
			fmt.Fprintf(os.Stderr, "deskbot: run %s %s: %v\n", res.RunID, res.Status, runErr)
		}
		if res.Status == engine.StatusStopped || res.Status == engine.StatusCancelled {
			return 130
		}
		return 1
	}
	return 0
}

// wireServices puts run-wide services (desktop, models) into the options.
// Packages that offer services add themselves to serviceWirers.
func wireServices(ctx context.Context, stop context.CancelCauseFunc, opts *engine.Options) error {
	for _, w := range serviceWirers {
		if err := w(ctx, stop, opts); err != nil {
			return err
		}
	}
	return nil
}

var serviceWirers []func(ctx context.Context, stop context.CancelCauseFunc, opts *engine.Options) error

// reorder moves flags after the positional argument to the front, so
// `deskbot run flow.json --var a=b` works like `deskbot run --var a=b flow.json`.
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && (name == "var" || name == "data" || name == "flow" || name == "limit" || name == "threads" || name == "quant") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// linePrinter prints one progress line per step.
type linePrinter struct {
	w io.Writer
}

// WantsInputs is false: the lines show no inputs, so a run at a history
// level that keeps none does not collect them for the printer.
func (p *linePrinter) WantsInputs() bool { return false }

func (p *linePrinter) Event(e engine.Event) {
	ind := strings.Repeat("  ", e.Depth)
	switch e.Kind {
	case engine.EventRunStarted:
		fmt.Fprintf(p.w, "run %s: %s\n", e.RunID, e.Flow)
	case engine.EventStepFinished:
		mark := map[string]string{engine.StatusOK: "ok", engine.StatusDry: "dry", engine.StatusCaught: "caught",
			engine.StatusRetrying: "retry", engine.StatusFailed: "FAILED", engine.StatusStopped: "stopped", engine.StatusCancelled: "cancelled"}[e.Status]
		line := fmt.Sprintf("%s%4d %-9s %-14s %-22s %8s", ind, e.Seq, mark, e.NodeID, e.Type, round(e.Duration))
		if e.Port != "" && e.Port != engine.PortNext {
			line += " -> " + e.Port
		}
		if e.Err != "" {
			line += "  " + e.Err
		}
		fmt.Fprintln(p.w, line)
	case engine.EventLog:
		fmt.Fprintf(p.w, "%s     %-5s %s\n", ind, e.Level, e.Message)
	case engine.EventRunFinished:
		fmt.Fprintf(p.w, "run %s %s: %d steps in %s\n", e.RunID, e.Status, e.Seq, round(e.Duration))
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// jsonPrinter prints each event as one JSON object per line. Values JSON
// cannot hold are made safe (NaN and the infinities become the strings
// "NaN", "+Inf" and "-Inf"; a value that contains itself "<cycle>"), so
// every event, run_finished included, is printed. err keeps the first
// failure to print.
type jsonPrinter struct {
	enc *json.Encoder
	err error
}

func (p *jsonPrinter) Event(e engine.Event) {
	out := map[string]any{"event": e.Kind, "time": e.Time.Format(time.RFC3339Nano), "run_id": e.RunID}
	add := func(k string, v any, keep bool) {
		if keep {
			out[k] = v
		}
	}
	add("flow", e.Flow, e.Flow != "")
	add("seq", e.Seq, e.Seq != 0)
	add("depth", e.Depth, e.Depth != 0)
	add("node", e.NodeID, e.NodeID != "")
	add("type", e.Type, e.Type != "")
	add("attempt", e.Attempt, e.Attempt != 0)
	add("port", e.Port, e.Port != "")
	add("status", e.Status, e.Status != "")
	add("duration_ms", float64(e.Duration)/1e6, e.Duration != 0)
	add("error", e.Err, e.Err != "")
	add("level", e.Level, e.Level != "")
	add("message", e.Message, e.Message != "")
	add("inputs", engine.JSONSafe(e.Inputs), len(e.Inputs) > 0)
	add("outputs", engine.JSONSafe(e.Outputs), len(e.Outputs) > 0)
	add("vars", engine.JSONSafe(e.Vars), e.Kind == engine.EventRunFinished)
	if err := p.enc.Encode(out); err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("%s event: %w", e.Kind, err)
		}
		if !errors.Is(err, os.ErrClosed) {
			fmt.Fprintln(os.Stderr, "deskbot: print event:", err)
		}
	}
}
