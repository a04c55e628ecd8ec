package report

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"deskbot/store"
)

// BenchmarkExport writes reports over 100,000 runs and 1,000,000 step
// events (storetest.Big, seeded once). Sub-benchmarks, with their
// baselines in the same run:
//
//   - collect: report.Collect alone, the statistics every report starts
//     from (the baseline of pdf, html and xlsx);
//   - pdf, html, xlsx: Export to a file: Collect, the charts, the writer;
//   - each-step: store.EachStep with a callback that does nothing, the
//     least a pass over every step row costs (the baseline of csv);
//   - csv: Export as CSV, the run and step tables streamed to two files.
//
// Each reports cpu-s/op beside the wall time (the machine is shared).
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	db, dir, _, seed := bigHistory(b)
	b.Logf("seeded in %v", seed.Round(time.Millisecond))
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)

	b.Run("collect", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := Collect(ctx, db, Filter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, f := range []Format{PDF, HTML, XLSX} {
		b.Run(string(f), func(b *testing.B) {
			defer cpuPerOp(b)()
			var size int64
			for b.Loop() {
				files, err := Export(ctx, db, Filter{}, f, filepath.Join(out, "report."+string(f)))
				if err != nil {
					b.Fatal(err)
				}
				st, _ := os.Stat(files[0])
				size = st.Size()
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
	b.Run("each-step", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			n := 0
			if err := db.EachStep(ctx, store.StatsFilter{}, func(store.ExportStep) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n < 900_000 {
				b.Fatalf("%d steps", n)
			}
		}
	})
	b.Run("csv", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := Export(ctx, db, Filter{}, CSV, filepath.Join(out, "report.csv")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRender draws the sample report's charts and writes each format
// from Data in memory (no store). Baseline: one chart drawn with no data
// (the fixed cost of a canvas, its fonts and the PNG encoder) at the same
// size and scale as the charts (480x300 dp at 2x). The font is loaded
// before, once, as in the studio.
func BenchmarkRender(b *testing.B) {
	d := sampleData()
	if _, err := cjkFont(); err != nil { // loaded once per process: not in any figure
		b.Fatal(err)
	}
	b.Run("baseline-empty-chart", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := ChartPNG(emptyData(), ChartDurations, 480, 300, 2); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range Charts {
		b.Run("png-"+string(c), func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				if _, err := ChartPNG(d, c, 480, 300, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, f := range []Format{PDF, HTML, XLSX} {
		b.Run(string(f), func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				if err := Write(io.Discard, d, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
