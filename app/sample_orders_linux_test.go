package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"deskbot/engine/activities/mailtest"
)

// The order-summary sample end to end, as an office user runs it on a
// terminal: it reads the orders workbook, asks to confirm the total, writes
// the summary workbook and emails it to an SMTP server on loopback. The
// attachment that arrives is read back with excelize. Answering "no" writes
// and sends nothing.
func TestOrderSummarySample(t *testing.T) {
	srv, err := mailtest.NewSMTP(mailtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	server := "127.0.0.1:" + strconv.Itoa(srv.Port)
	flow, _ := filepath.Abs("../assets/flows/order-summary.json")

	// "No": nothing is written, nothing is sent.
	out := t.TempDir()
	p := startOnPTY(t, []string{"DESKBOT_DATA=" + t.TempDir()}, "run", flow,
		"--var", "out_dir="+out, "--var", "smtp_server="+server)
	p.expect("== Order summary ==")
	p.expect("8 orders come to 852.6 EUR.")
	p.expect("Write the summary and email it to manager@example.com?")
	p.typeLine("n")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("run (no): %v\n%s", err, p.text())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 || len(srv.Messages()) != 0 {
		t.Fatalf("after no: %d files written, %d messages sent", len(entries), len(srv.Messages()))
	}

	// "Yes": the summary is written and emailed.
	p = startOnPTY(t, []string{"DESKBOT_DATA=" + t.TempDir()}, "run", flow,
		"--var", "out_dir="+out, "--var", "smtp_server="+server, "--var", "mail_to=chef@example.com")
	p.expect("8 orders come to 852.6 EUR.")
	p.typeLine("y")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("run (yes): %v\n%s", err, p.text())
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1\n%s", len(msgs), p.text())
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "Order summary: 8 orders, 852.6 EUR" || !strings.Contains(m.Header.Get("To"), "chef@example.com") {
		t.Errorf("subject %q, to %q", subject, m.Header.Get("To"))
	}
	xlsx := attachment(t, m, "order-summary.xlsx")
	wb, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wb.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Customer", "Orders", "Amount"},
		{"Müller Bäckerei GmbH", "2", "131"},
		{"Nordlicht Kanzlei", "2", "264.8"},
		{"上海晨光贸易", "2", "352"},
		{"Café Sonne", "2", "104.8"},
		{"Total", "8", "852.6"},
	}
	if got, w := strings.TrimSpace(dump(rows)), strings.TrimSpace(dump(want)); got != w {
		t.Errorf("summary sheet:\n%s\nwant:\n%s", got, w)
	}
	onDisk, _ := os.ReadFile(filepath.Join(out, "order-summary.xlsx"))
	if !bytes.Equal(onDisk, xlsx) {
		t.Error("the attachment differs from the workbook written")
	}
}

func dump(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, " | "))
		b.WriteString("\n")
	}
	return b.String()
}

// attachment returns the bytes of the attachment with the given file name.
func attachment(t *testing.T, m *mail.Message, name string) []byte {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			t.Fatalf("no attachment %q", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if part.FileName() == name {
			var body io.Reader = part
			if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
				body = base64.NewDecoder(base64.StdEncoding, part)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}
