package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"deskbot/report"
)

func init() {
	commands["report"] = command{"export a report on recorded runs: deskbot report [--flow NAME] [--since 7d | --from D --to D] --format pdf|html|xlsx|csv -o FILE", cmdReport}
}

func cmdReport(args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	flowName := fs.String("flow", "", "only runs of this flow (default: every flow)")
	since := fs.String("since", "", "the period back from now: 24h, 7d (today and the 6 days before), 2w, or all (default 7d)")
	from := fs.String("from", "", "first day of the period, YYYY-MM-DD")
	to := fs.String("to", "", "last day of the period (included), YYYY-MM-DD")
	format := fs.String("format", "", "pdf, html, xlsx or csv (default: from the file's extension)")
	out := fs.String("o", "", "the report file; for csv the steps go beside it (report.csv, report-steps.csv)")
	data := fs.String("data", "", "data folder (default $DESKBOT_DATA or the user config folder)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: deskbot report [--flow NAME] [--since 7d | --from YYYY-MM-DD --to YYYY-MM-DD] --format pdf|html|xlsx|csv -o FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "deskbot report: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "deskbot report: -o FILE is required")
		fs.Usage()
		return 2
	}
	name := *format
	if name == "" {
		name = filepath.Ext(*out)
		if name == "" {
			fmt.Fprintf(os.Stderr, "deskbot report: give --format (pdf, html, xlsx or csv): %q has no extension to go by\n", *out)
			return 2
		}
	}
	f, err := report.ParseFormat(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot report:", err)
		return 2
	}
	r := report.Range{Since: *since, From: *from, To: *to}
	if r == (report.Range{}) {
		r.Since = "7d"
	}
	filter, err := r.Filter(*flowName, time.Now(), time.Local)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot report:", err)
		return 2
	}
	db, err := openStore(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot:", err)
		return 1
	}
	defer db.Close()
	files, err := report.Export(context.Background(), db, filter, f, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskbot report:", err)
		return 1
	}
	for _, file := range files {
		fmt.Println("wrote", file)
	}
	return 0
}
