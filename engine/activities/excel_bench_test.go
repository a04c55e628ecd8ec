package activities_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"deskbot/engine/activities"
)

// benchRows is the size of the table the read benchmarks use.
const benchRows = 10_000

// benchData writes the same 10,000 x 5 table as orders.xlsx and orders.csv.
func benchData(b *testing.B) (xlsx, csv []byte) {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	var c bytes.Buffer
	head := []any{"id", "Customer", "Amount", "Country", "Note"}
	sw.SetRow("A1", head)
	c.WriteString("id,Customer,Amount,Country,Note\n")
	for i := 1; i <= benchRows; i++ {
		row := []any{i, fmt.Sprintf("Customer %d", i), float64(i%1000) + 0.5, []string{"NL", "DE", "BE"}[i%3], "a note"}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, row); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&c, "%d,Customer %d,%g,%s,a note\n", i, i, float64(i%1000)+0.5, []string{"NL", "DE", "BE"}[i%3])
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), c.Bytes()
}

// BenchmarkReadTable reads one 10,000-row table from .xlsx (excel.read's
// code) and, as the same-run baseline, from .csv (file.read_csv's).
func BenchmarkReadTable(b *testing.B) {
	xlsx, csv := benchData(b)
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "orders.xlsx"), xlsx, 0o644)
	b.Run("xlsx", func(b *testing.B) {
		for b.Loop() {
			wb, err := activities.OpenWorkbookBytes("orders.xlsx", xlsx)
			if err != nil {
				b.Fatal(err)
			}
			rows, _, err := activities.ReadSheet(wb, "orders.xlsx", "", "", true, nil)
			wb.Close()
			if err != nil || len(rows) != benchRows {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		}
	})
	b.Run("csv-baseline", func(b *testing.B) {
		for b.Loop() {
			rows, _, err := activities.ParseCSV(csv, ',', true)
			if err != nil || len(rows) != benchRows {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		}
	})
}
