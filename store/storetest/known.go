package storetest

import (
	"encoding/json"
	"time"

	"deskbot/engine/textgen"
)

// Flow names of KnownHistory.
const (
	FlowInvoices = "invoices"
	FlowChinese  = "发票处理"
)

// KnownHistory is a small history whose statistics are known. Day1 is
// midnight of its first day in loc; runs start on Day1..Day1+3. shot is
// the path of an existing PNG: the failure screenshot of run r3.
//
//	run  flow      day start  dur   status       steps (type: status duration)
//	r1   invoices  1   10:00  10s   ok           start 1ms, each 2ms, write 10ms, each 2ms, write 10ms, done 1ms
//	r2   invoices  1   11:00  20s   ok           start, each, write 10ms, click caught 100ms "timeout after 5s", each, write, done
//	r3   invoices  2   10:00  30s   failed       start, each, click failed 500ms "image not found" (screenshot shot)
//	r4   invoices  2   12:00  40s   stopped      start, each, write
//	r5   invoices  3   10:00  100s  ok           start, each, write, click retrying 300ms "image not found", click ok 200ms, done
//	r6   invoices  3   11:00  -     running      start, each, write (running)
//	r7   invoices  3   12:00  5s    ok, dry run  start, each (left out of every statistic)
//	c1   发票处理   1   09:00  50s   failed       start, read failed 5ms "文件不存在" (label 读取发票; screenshot /nonexistent, gone)
//	c2   发票处理   4   09:00  60s   interrupted  start, each, write interrupted 7ms
//
// All flows: 8 runs, 3 ok, 3 failed (r3 c1 c2), 1 stopped, 1 running,
// success rate 3/7; finished durations 10 20 30 40 50 60 100 s: p50 40s,
// p90 100s, max 100s; histogram of 10 s buckets 0..110 s with one run in
// buckets 1 2 3 4 5 6 10. Steps 32, items 9. Time per activity:
// desktop.click 4 steps 1100ms, files.write_text 7 67ms, control.for_each
// 12 21ms, control.start 8 8ms, files.read_text 1 5ms. Failures by node:
// invoices/click 3 ("image not found" twice), 发票处理/read 1. Failed runs,
// newest first: c2 (write), r3 (click, screenshot), c1 (read, gone).
// Days: 1 {ok 2, failed 1}, 2 {failed 1, stopped 1}, 3 {ok 1, running 1},
// 4 {interrupted 1}.
// Flow invoices: 6 runs, 3 ok, 1 failed, 1 stopped, 1 running, rate 3/5,
// p50 30s, p90 100s.
//
// Generations (created on day 1 at 10:00 + i minutes):
//
//	g1 gpt2 "gpt2 (local)" {"temperature":0}   run r1  P1  "Hello world" 3+10 tokens 20 tok/s first 100ms
//	g2 gpt2 "gpt2 (local)" {"temperature":0}   run r1  P2  "你好"         5+4 tokens 40 tok/s first 300ms
//	g3 gpt2 "gpt2 (local)" {"temperature":0.8} run r2  P1  "Hi"           3+2 tokens 10 tok/s first 200ms
//	g4 api:work gpt-4o-mini {}                  run r3  P1  error "stream cut off" 2+0 tokens
//	g5 api:work gpt-4o-mini {}                  no run  P3  "abc"          4+3 tokens 100 tok/s first 50ms
func KnownHistory(loc *time.Location, shot string) (day1 time.Time, runs []Run, gens []textgen.Generation) {
	day1 = time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	at := func(day, hour int) time.Time { return day1.AddDate(0, 0, day-1).Add(time.Duration(hour) * time.Hour) }
	ms := time.Millisecond
	start := Step{Node: "start", Type: "control.start", Dur: ms, Status: "ok", Port: "next"}
	each := Step{Node: "loop", Type: "control.for_each", Dur: 2 * ms, Status: "ok", Port: "each"}
	done := Step{Node: "loop", Type: "control.for_each", Dur: ms, Status: "ok", Port: "done"}
	write := Step{Node: "write", Type: "files.write_text", Label: "Write letter", Dur: 10 * ms, Status: "ok", Port: "next"}
	click := func(status string, d time.Duration, err string) Step {
		return Step{Node: "click", Type: "desktop.click", Label: "Click Save", Dur: d, Status: status, Error: err}
	}
	shotJSON, _ := json.Marshal(map[string]string{"screenshot": shot})
	failClick := click("failed", 500*ms, "image not found")
	failClick.Outputs = string(shotJSON)
	runningWrite := write
	runningWrite.Status, runningWrite.Dur, runningWrite.Port = "running", 0, ""
	interWrite := write
	interWrite.Status, interWrite.Dur, interWrite.Port = "interrupted", 7*ms, ""
	read := Step{Node: "read", Type: "files.read_text", Label: "读取发票", Dur: 5 * ms, Status: "failed", Error: "文件不存在",
		Outputs: `{"screenshot":"/nonexistent/deskbot-failure.png"}`}
	s := time.Second
	runs = []Run{
		{ID: "r1", Flow: FlowInvoices, Start: at(1, 10), Dur: 10 * s, Status: "ok", Steps: []Step{start, each, write, each, write, done}},
		{ID: "r2", Flow: FlowInvoices, Start: at(1, 11), Dur: 20 * s, Status: "ok",
			Steps: []Step{start, each, write, click("caught", 100*ms, "timeout after 5s"), each, write, done}},
		{ID: "r3", Flow: FlowInvoices, Start: at(2, 10), Dur: 30 * s, Status: "failed", Error: "click: image not found",
			Steps: []Step{start, each, failClick}},
		{ID: "r4", Flow: FlowInvoices, Start: at(2, 12), Dur: 40 * s, Status: "stopped", Steps: []Step{start, each, write}},
		{ID: "r5", Flow: FlowInvoices, Start: at(3, 10), Dur: 100 * s, Status: "ok",
			Steps: []Step{start, each, write, click("retrying", 300*ms, "image not found"), click("ok", 200*ms, ""), done}},
		{ID: "r6", Flow: FlowInvoices, Start: at(3, 11), Status: "running", Steps: []Step{start, each, runningWrite}},
		{ID: "r7", Flow: FlowInvoices, Start: at(3, 12), Dur: 5 * s, Status: "ok", Dry: true, Steps: []Step{start, each}},
		{ID: "c1", Flow: FlowChinese, Start: at(1, 9), Dur: 50 * s, Status: "failed", Error: "读取发票: 文件不存在", Steps: []Step{start, read}},
		{ID: "c2", Flow: FlowChinese, Start: at(4, 9), Dur: 60 * s, Status: "interrupted", Error: "the process ended", Steps: []Step{start, each, interWrite}},
	}
	g := func(i int, provider, model, params, run, prompt, out string, pt, ot int, tps float64, first time.Duration, errText string) textgen.Generation {
		return textgen.Generation{Created: at(1, 10).Add(time.Duration(i) * time.Minute), RunID: run, NodeID: "gen", Provider: provider, Model: model,
			Params: json.RawMessage(params), Prompt: prompt, Output: out, PromptTokens: pt, OutputTokens: ot, TokensPerSec: tps,
			FirstToken: first, Total: time.Second, Error: errText}
	}
	gens = []textgen.Generation{
		g(1, "gpt2", "gpt2 (local)", `{"temperature":0}`, "r1", "P1", "Hello world", 3, 10, 20, 100*ms, ""),
		g(2, "gpt2", "gpt2 (local)", `{"temperature":0}`, "r1", "P2", "你好", 5, 4, 40, 300*ms, ""),
		g(3, "gpt2", "gpt2 (local)", `{"temperature":0.8}`, "r2", "P1", "Hi", 3, 2, 10, 200*ms, ""),
		g(4, "api:work", "gpt-4o-mini", `{}`, "r3", "P1", "", 2, 0, 0, 0, "stream cut off"),
		g(5, "api:work", "gpt-4o-mini", `{}`, "", "P3", "abc", 4, 3, 100, 50*ms, ""),
	}
	return day1, runs, gens
}
