package ui

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"deskbot/engine"
)

// The Output tab writes a line per step: its translated words are looked
// up once, not per line (go-i18n is slow enough to stall a busy run's
// hand-over). SetupLanguage clears the cache.
var (
	l10nMu    sync.Mutex
	l10nCache = map[string]string{}
)

func cachedTr(key, fallback string) string {
	k := key + "\x00" + fallback
	l10nMu.Lock()
	v, ok := l10nCache[k]
	l10nMu.Unlock()
	if !ok {
		v = tr(key, fallback)
		l10nMu.Lock()
		l10nCache[k] = v
		l10nMu.Unlock()
	}
	return v
}

func cachedL(key string) string {
	l10nMu.Lock()
	v, ok := l10nCache[key]
	l10nMu.Unlock()
	if !ok {
		v = lang.L(key)
		l10nMu.Lock()
		l10nCache[key] = v
		l10nMu.Unlock()
	}
	return v
}

func clearL10nCache() {
	l10nMu.Lock()
	l10nCache = map[string]string{}
	l10nMu.Unlock()
}

// outLine is one line of the Output tab.
type outLine struct {
	Text  string
	Level string // "", "info", "warn", "error"
	// ev is a step or log event not yet written into Text: a busy run
	// hands over thousands of lines, and only those shown are formatted.
	ev *engine.Event
}

// eventLine is the Output line of a step or log event, formatted when it
// is first shown.
func eventLine(e engine.Event) outLine {
	lvl := e.Level
	if e.Kind == engine.EventStepFinished {
		switch e.Status {
		case engine.StatusFailed:
			lvl = "error"
		case engine.StatusCaught, engine.StatusRetrying:
			lvl = "warn"
		default:
			lvl = "info"
		}
	} else if lvl == "" {
		lvl = "info"
	}
	return outLine{Level: lvl, ev: &e}
}

// lineText returns Output line i's text, formatting it if need be.
func (s *Studio) lineText(i int) string {
	ln := &s.outLines[i]
	if ln.ev != nil {
		if ln.ev.Kind == engine.EventStepFinished {
			ln.Text = s.stepLine(*ln.ev).Text
		} else {
			ln.Text = s.logLine(*ln.ev).Text
		}
		ln.ev = nil
	}
	return ln.Text
}

// humanDur writes a duration the way a person says it: 850 ms, 2.4 s,
// 1 min 3 s, 2 h 5 min.
func humanDur(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Millisecond:
		return cachedL("under 1 ms")
	case d < time.Second:
		return fmt.Sprintf(cachedL("%d ms"), d.Milliseconds())
	case d < time.Minute:
		s := math.Round(d.Seconds()*10) / 10
		if s >= 60 {
			return fmt.Sprintf(cachedL("%d min %d s"), 1, 0)
		}
		return fmt.Sprintf(cachedL("%s s"), strings.TrimSuffix(fmt.Sprintf("%.1f", s), ".0"))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf(cachedL("%d min %d s"), int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf(cachedL("%d h %d min"), int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// humanBytes writes a size: 512 bytes, 1.2 KB, 3.4 MB.
func humanBytes(n float64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf(cachedL("%d bytes"), int64(n))
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", n/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", n/1024/1024)
	}
	return fmt.Sprintf("%.1f GB", n/1024/1024/1024)
}

func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// verbOf returns the last word of an activity type ("file.write" →
// "write").
func verbOf(typ string) string {
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		typ = typ[i+1:]
	}
	if i := strings.IndexByte(typ, '_'); i >= 0 {
		typ = typ[:i]
	}
	return typ
}

// stepSummary says in plain words what a step did, from its outputs and
// the port it left by: "Wrote 1 file (letter.txt, 1.2 KB)", "Read 120
// rows", "HTTP 200". "" when the outputs say nothing a person would read.
func stepSummary(typ, port string, out map[string]any) string {
	verb := verbOf(typ)
	writes := verb == "write" || verb == "append" || verb == "save" || verb == "export"
	var parts []string
	num := func(k string) (int, bool) {
		f, ok := asNumber(out[k])
		return int(f), ok
	}
	if n, ok := num("rows"); ok {
		switch {
		case writes:
			parts = append(parts, fmt.Sprintf(cachedL("Wrote %d rows"), n))
		case verb == "read" || verb == "load":
			parts = append(parts, fmt.Sprintf(cachedL("Read %d rows"), n))
		default:
			parts = append(parts, fmt.Sprintf(cachedL("%d rows"), n))
		}
	}
	if n, ok := num("records"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("%d records"), n))
	}
	if n, ok := num("cells"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("%d cells"), n))
	}
	if n, ok := num("files"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("%d files"), n))
	}
	if n, ok := num("messages"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("%d messages"), n))
	}
	if n, ok := num("recipients"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("Sent to %d recipients"), n))
	}
	if n, ok := num("characters"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("Typed %d characters"), n))
	}
	if n, ok := num("status"); ok {
		parts = append(parts, fmt.Sprintf("HTTP %d", n))
	}
	if n, ok := num("exit_code"); ok {
		parts = append(parts, fmt.Sprintf(cachedL("Exit code %d"), n))
	}
	if p, ok := out["path"].(string); ok && p != "" {
		base := filepath.Base(p)
		detail := base
		if b, ok := asNumber(out["bytes"]); ok {
			detail += ", " + humanBytes(b)
		}
		switch verb {
		case "copy":
			parts = append(parts, fmt.Sprintf(cachedL("Copied to %s"), detail))
		case "move", "rename":
			parts = append(parts, fmt.Sprintf(cachedL("Moved to %s"), detail))
		case "zip", "unzip", "extract":
			parts = append(parts, fmt.Sprintf(cachedL("Made %s"), detail))
		default:
			if writes || verb == "create" {
				parts = append(parts, fmt.Sprintf(cachedL("Wrote 1 file (%s)"), detail))
			} else {
				parts = append(parts, fmt.Sprintf(cachedL("File %s"), detail))
			}
		}
	} else if b, ok := asNumber(out["bytes"]); ok {
		if verb == "read" {
			parts = append(parts, fmt.Sprintf(cachedL("Read %s"), humanBytes(b)))
		} else {
			parts = append(parts, humanBytes(b))
		}
	}
	if f, ok := out["found"]; ok {
		if b, isBool := f.(bool); (isBool && !b) || f == nil {
			parts = append(parts, cachedL("Not found"))
		} else {
			parts = append(parts, cachedL("Found"))
		}
	}
	if len(parts) == 0 && port != "" && port != "next" && port != "out" {
		// a decision: say which way it went
		parts = append(parts, "→ "+cachedTr("port."+port, port))
	}
	if len(parts) == 0 && len(out) > 0 {
		keys := make([]string, 0, len(out))
		for k := range out {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, fmt.Sprintf(cachedL("Set %s"), strings.Join(keys, ", ")))
	}
	return strings.Join(parts, ", ")
}

// nodeName names a node for a person: its label, then its id ("Write
// letter (n3)"); the activity's title when it has no label.
func (s *Studio) nodeName(id, label, typ string) string {
	key := id + "\x00" + label + "\x00" + typ
	if n, ok := s.nodeNames[key]; ok {
		return n
	}
	n := s.nodeNameUncached(id, label, typ)
	if s.nodeNames == nil || len(s.nodeNames) > 10000 {
		s.nodeNames = map[string]string{}
	}
	s.nodeNames[key] = n
	return n
}

func (s *Studio) nodeNameUncached(id, label, typ string) string {
	if label == "" && s.Doc != nil {
		if n := s.Doc.Flow.Node(id); n != nil {
			label, typ = n.Label, n.Type
		}
	}
	if label == "" && typ != "" {
		if sp, ok := s.reg.Spec(typ); ok {
			label = cachedTr("activity."+sp.Type, sp.Title)
		}
	}
	if label == "" || label == id {
		return id
	}
	return fmt.Sprintf("%s (%s)", label, id)
}

// stepLine is the Output line of a finished step.
func (s *Studio) stepLine(e engine.Event) outLine {
	name := s.nodeName(e.NodeID, e.Label, e.Type)
	indent := strings.Repeat("  ", e.Depth)
	when := e.Time.Format("15:04:05")
	switch e.Status {
	case engine.StatusFailed, engine.StatusCaught, engine.StatusRetrying:
		what := cachedTr("status."+e.Status, e.Status)
		return outLine{Level: map[bool]string{true: "error", false: "warn"}[e.Status == engine.StatusFailed],
			Text: fmt.Sprintf("%s %s✗ %s — %s: %s · %s", when, indent, name, what, e.Err, humanDur(e.Duration))}
	}
	what := stepSummary(e.Type, e.Port, e.Outputs)
	if e.Status == engine.StatusDry {
		what = strings.TrimPrefix(strings.TrimSpace(cachedTr("status.dry", "dry")+" "+what), " ")
	}
	if what == "" {
		if vs := s.varsSetBy(e.NodeID); len(vs) > 0 {
			what = fmt.Sprintf(cachedL("Set %s"), strings.Join(vs, ", "))
		} else {
			what = cachedL("done")
		}
	}
	return outLine{Level: "info", Text: fmt.Sprintf("%s %s✓ %s — %s · %s", when, indent, name, what, humanDur(e.Duration))}
}

// logLine is the Output line of a log message.
func (s *Studio) logLine(e engine.Event) outLine {
	lvl := e.Level
	if lvl == "" {
		lvl = "info"
	}
	prefix := ""
	if lvl != "info" {
		prefix = cachedTr("level."+lvl, strings.ToUpper(lvl)) + " "
	}
	return outLine{Level: lvl, Text: fmt.Sprintf("%s %s[%s] %s", e.Time.Format("15:04:05"), prefix, s.nodeName(e.NodeID, e.Label, e.Type), e.Message)}
}

// newOutputList builds the Output tab: one wrapped label per line,
// coloured by level, each line as tall as its wrapped text.
func (s *Studio) newOutputList() *widget.List {
	s.outHeights = map[int]float32{}
	var l *widget.List
	l = widget.NewList(func() int { return len(s.outLines) },
		func() fyne.CanvasObject {
			lb := widget.NewLabel("")
			lb.Wrapping = fyne.TextWrapWord
			return lb
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(s.outLines) {
				return
			}
			text := s.lineText(i)
			lb := o.(*widget.Label)
			lb.Importance = levelImportance(s.outLines[i].Level)
			lb.SetText(text)
			// Only wrapped lines get a height of their own: a list with no
			// item heights lays out without walking every line.
			h := s.outHeight(text)
			if old, had := s.outHeights[i]; (had && old != h) || (!had && h > s.outHeight("M")) {
				s.outHeights[i] = h
				l.SetItemHeight(i, h)
			}
		})
	return l
}

func levelImportance(level string) widget.Importance {
	switch level {
	case "error":
		return widget.DangerImportance
	case "warn", "warning":
		return widget.WarningImportance
	case "debug":
		return widget.LowImportance
	}
	return widget.MediumImportance
}

// outHeight is the height a line needs when wrapped to the Output tab's
// width.
func (s *Studio) outHeight(text string) float32 {
	pad := theme.InnerPadding()
	w := s.Output.Size().Width - 2*pad - theme.ScrollBarSize()
	lineH := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{}).Height
	one := lineH + 2*pad
	if w <= 50 {
		return one
	}
	lines := 0
	for _, para := range strings.Split(text, "\n") {
		tw := fyne.MeasureText(para, theme.TextSize(), fyne.TextStyle{}).Width
		n := int(math.Ceil(float64(tw / w)))
		if n < 1 {
			n = 1
		}
		lines += n
	}
	return float32(lines)*lineH + 2*pad
}

// markFailed turns the failed top-level node red, its error on hover.
func (s *Studio) markFailed(e engine.Event) {
	if s.Doc.Flow.Node(e.NodeID) == nil {
		return
	}
	s.Canvas.SetNodeState(e.NodeID, NodeStateFailed, s.nodeName(e.NodeID, e.Label, e.Type)+": "+e.Err)
}

// showFailure says in the status bar which node failed, by label, and
// marks it on the canvas (also when the step's event was not shown).
func (s *Studio) showFailure(err error) {
	var se *engine.StepError
	if !errors.As(err, &se) {
		return
	}
	id := se.NodeID
	if i := strings.IndexByte(id, '/'); i >= 0 {
		id = id[:i] // a sub-flow's node: its caller is on this canvas
	}
	name := s.nodeName(se.NodeID, se.Label, se.Type)
	if st, _ := s.Canvas.NodeState(id); st != NodeStateFailed && s.Doc.Flow.Node(id) != nil {
		s.Canvas.SetNodeState(id, NodeStateFailed, name+": "+se.Err.Error())
	}
	s.setStatus(fmt.Sprintf(cachedL("Failed at %s: %s"), name, se.Err.Error()))
}

// varsSetBy returns the variables a node of the flow sets by its variable
// fields (control.set_variable's variable, an output variable).
func (s *Studio) varsSetBy(id string) []string {
	n := s.Doc.Flow.Node(id)
	if n == nil {
		return nil
	}
	spec, ok := s.reg.Spec(n.Type)
	if !ok {
		return nil
	}
	var out []string
	for _, fd := range spec.Fields {
		if fd.Kind != engine.KindVar {
			continue
		}
		if v, ok := n.Params[fd.Name].(string); ok && strings.TrimSpace(v) != "" {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
