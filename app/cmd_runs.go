package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"deskbot/store"
)

func init() {
	commands["runs"] = command{"list recorded runs: deskbot runs [--flow NAME] [--limit N]", cmdRuns}
	commands["show-run"] = command{"show a recorded run's steps: deskbot show-run ID", cmdShowRun}
}

// openStore opens the history database in dir, $DESKBOT_DATA or the user
// config folder, marking runs of dead processes as interrupted.
func openStore(dir string) (*store.DB, error) {
	if dir == "" {
		d, err := store.DataDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return store.OpenDir(dir)
}

func cmdRuns(args []string) int {
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	flowName := fs.String("flow", "", "only runs of this flow")
	limit := fs.Int("limit", 20, "how many runs")
	data := fs.String("data", "", "data folder")
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	db, err := openStore(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	defer db.Close()
	runs, err := db.Runs(context.Background(), store.RunFilter{Flow: *flowName, Limit: *limit})
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	if len(runs) == 0 {
		fmt.Println("no runs recorded yet")
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tFLOW\tVERSION\tSTARTED\tDURATION\tSTEPS\tSTATUS\tERROR")
	for _, r := range runs {
		dur := "-"
		if !r.End.IsZero() {
			dur = round(r.End.Sub(r.Start)).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Flow, r.FlowVersion, r.Start.Local().Format("2006-01-02 15:04:05"), dur, r.Steps, r.Status, short(r.Error, 60))
	}
	tw.Flush()
	return 0
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func cmdShowRun(args []string) int {
	fs := flag.NewFlagSet("show-run", flag.ContinueOnError)
	data := fs.String("data", "", "data folder")
	vars := fs.Bool("vars", false, "print the variables after each step that changed them")
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: deskbot show-run [--vars] ID")
		return 2
	}
	db, err := openStore(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	defer db.Close()
	ctx := context.Background()
	r, err := db.Run(ctx, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	fmt.Printf("run %s of %q (version %d), %s\n", r.ID, r.Flow, r.FlowVersion, r.Status)
	fmt.Printf("started %s", r.Start.Local().Format(time.RFC3339))
	if !r.End.IsZero() {
		fmt.Printf(", took %s", round(r.End.Sub(r.Start)))
	}
	fmt.Println()
	if r.Error != "" {
		fmt.Printf("error: %s\n", r.Error)
	}
	steps, err := db.Steps(ctx, r.ID)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	logs, _ := db.Logs(ctx, r.ID)
	var vr *store.VarsReader
	if *vars {
		// One pass over the run's variable rows (deltas), step by step.
		if vr, err = db.ReadVars(ctx, r.ID); err != nil {
			fmt.Fprintln(os.Stderr, "deskbot:", err)
			return 1
		}
		defer vr.Close()
	}
	li := 0
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tNODE\tACTIVITY\tSTART\tDURATION\tSTATUS\tPORT\tERROR")
	for _, s := range steps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Seq, s.NodeID, s.Type, s.Start.Local().Format("15:04:05.000"), round(s.Duration), s.Status, s.Port, s.Error)
		for li < len(logs) && logs[li].Seq <= s.Seq {
			fmt.Fprintf(tw, "\t\t  %s: %s\t\t\t\t\t\n", logs[li].Level, logs[li].Message)
			li++
		}
		if len(s.Inputs) > 0 {
			b, _ := json.Marshal(s.Inputs)
			fmt.Fprintf(tw, "\t\t  inputs: %s\t\t\t\t\t\n", short(string(b), 120))
		}
		if len(s.Outputs) > 0 {
			b, _ := json.Marshal(s.Outputs)
			fmt.Fprintf(tw, "\t\t  outputs: %s\t\t\t\t\t\n", short(string(b), 120))
		}
		if *vars && s.HasVars {
			v, err := vr.At(s.Seq)
			if err == nil {
				keys := make([]string, 0, len(v))
				for k := range v {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					b, _ := json.Marshal(v[k])
					fmt.Fprintf(tw, "\t\t  %s = %s\t\t\t\t\t\n", k, short(string(b), 100))
				}
			}
		}
	}
	tw.Flush()
	return 0
}
