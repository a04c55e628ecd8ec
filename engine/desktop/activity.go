package desktop

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"deskbot/engine"
)

// runFunc is a desktop activity's body; e says where to act.
type runFunc func(ctx context.Context, e *env) (string, error)

// act adapts a runFunc to engine.Activity and engine.DryRunner.
type act struct{ run runFunc }

// env is what one desktop step acts on.
type env struct {
	c    *engine.Call
	d    Desktop
	dry  bool
	fake *Fake // in dry runs
	pace time.Duration
}

// Run acts on the run's desktop; a failure (not a stop) leaves a screenshot.
func (a *act) Run(ctx context.Context, c *engine.Call) (string, error) {
	d, err := From(c)
	if err != nil {
		return "", err
	}
	e := &env{c: c, d: d, pace: Pace(c.Flow().Settings)}
	port, err := a.run(ctx, e)
	if err != nil && ctx.Err() == nil && !errors.Is(err, engine.ErrStoppedByUser) {
		saveEvidence(c, d)
	}
	return port, err
}

// OnTimeout leaves a screenshot when the node's timeout passes, like any
// other failure.
func (a *act) OnTimeout(c *engine.Call) {
	if d, err := From(c); err == nil {
		saveEvidence(c, d)
	}
}

// DryRun acts on a Fake (the run's, when it has one) and logs what the step
// would do.
func (a *act) DryRun(ctx context.Context, c *engine.Call) (string, error) {
	f, _ := c.Service(serviceKey{}).(*Fake)
	if f == nil {
		f = NewFake()
	}
	n := len(f.Lines())
	e := &env{c: c, d: f, dry: true, fake: f}
	port, err := a.run(ctx, e)
	lines := f.Since(n)
	for _, l := range lines {
		c.Logf("would %s", l)
	}
	if len(lines) > 0 {
		c.Output("would", strings.Join(lines, "; "))
	}
	return port, err
}

// do runs one desktop action: the failsafe check, the action, the pause.
func (e *env) do(ctx context.Context, f func() error) error {
	if err := e.check(ctx); err != nil {
		return err
	}
	if err := f(); err != nil {
		return err
	}
	return e.wait(ctx)
}

// check stops when the run is cancelled or the pointer is in the corner.
func (e *env) check(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if e.dry {
		return nil
	}
	return checkFailsafe(e.d)
}

func (e *env) wait(ctx context.Context) error {
	if e.dry || e.pace <= 0 {
		return nil
	}
	return engine.Sleep(ctx, e.pace)
}

// note records a line in dry runs (for waits that a Fake cannot act out).
func (e *env) note(format string, args ...any) {
	if e.fake != nil {
		e.fake.mu.Lock()
		e.fake.lines = append(e.fake.lines, fmt.Sprintf(format, args...))
		e.fake.mu.Unlock()
	}
}

// poll calls f every interval until it reports done, the timeout passes
// (false) or the run stops. It checks the failsafe corner on every round.
// In dry runs f is called once.
func (e *env) poll(ctx context.Context, timeout, interval time.Duration, f func() (bool, error)) (bool, error) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	deadline := time.Now().Add(timeout)
	for {
		if err := e.check(ctx); err != nil {
			return false, err
		}
		ok, err := f()
		if err != nil || ok {
			return ok, err
		}
		if e.dry || !time.Now().Before(deadline) {
			return false, nil
		}
		if err := engine.Sleep(ctx, min(interval, time.Until(deadline)+time.Millisecond)); err != nil {
			return false, err
		}
	}
}

// --- field helpers ---

func fieldXY(required bool, help string) []engine.Field {
	return []engine.Field{
		{Name: "x", Title: "X", Kind: engine.KindExpr, Required: required, Pick: engine.PickPoint, PickY: "y", Help: "Screen x in pixels from the left, e.g. 200 or found.x. " + help},
		{Name: "y", Title: "Y", Kind: engine.KindExpr, Required: required, Help: "Screen y in pixels from the top, e.g. 150 or found.y."},
	}
}

var (
	fTolerance = engine.Field{Name: "tolerance", Title: "Tolerance", Kind: engine.KindFloat, Default: 0.1,
		Help: "How different the screen may look: 0 is pixel-exact, 0.1 allows 10% average colour difference."}
	fRegion = engine.Field{Name: "region", Title: "Search region", Kind: engine.KindText, Pick: engine.PickRegion,
		Help: "left,top,width,height in screen pixels, e.g. 0,0,800,600; \"window\" for the active window; empty for the whole screen."}
	fInterval = engine.Field{Name: "interval", Title: "Poll every", Kind: engine.KindDur, Default: "200ms", Advanced: true}
	fMatch    = engine.Field{Name: "match", Title: "Title match", Kind: engine.KindSelect, Default: "contains",
		Options: []string{"contains", "exact", "regex"}, Help: "contains ignores case; regex uses Go syntax (RE2)."}
)

func fTimeout(def string) engine.Field {
	return engine.Field{Name: "timeout", Title: "Timeout", Kind: engine.KindDur, Default: def, Help: "How long to keep looking, e.g. 5s."}
}

// toInt converts an expression's value to a whole number of pixels.
func toInt(what string, v any) (int, error) {
	var f float64
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		f = x
	case float32:
		f = float64(x)
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: want a number, got %q", what, x)
		}
		f = p
	default:
		return 0, fmt.Errorf("%s: want a number, got %s", what, engine.ToString(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s: want a number, got %v", what, f)
	}
	return int(math.Round(f)), nil
}

// point evaluates the x and y expressions.
func point(c *engine.Call, x, y *engine.Expr) (int, int, error) {
	xv, err := c.Eval(x)
	if err != nil {
		return 0, 0, fmt.Errorf("x: %w", err)
	}
	yv, err := c.Eval(y)
	if err != nil {
		return 0, 0, fmt.Errorf("y: %w", err)
	}
	xi, err := toInt("x", xv)
	if err != nil {
		return 0, 0, err
	}
	yi, err := toInt("y", yv)
	return xi, yi, err
}

// RegionWindow as a region means the active window's area.
const RegionWindow = "window"

// ParseRegion parses "left,top,width,height"; empty gives an empty
// rectangle (the whole screen).
func ParseRegion(s string) (image.Rectangle, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == RegionWindow {
		return image.Rectangle{}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return image.Rectangle{}, fmt.Errorf("region %q: want left,top,width,height", s)
	}
	var n [4]int
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return image.Rectangle{}, fmt.Errorf("region %q: %q is not a whole number", s, strings.TrimSpace(p))
		}
		n[i] = v
	}
	for _, v := range n {
		if v > 1<<20 {
			return image.Rectangle{}, fmt.Errorf("region %q: %d is beyond any screen", s, v)
		}
	}
	if n[2] <= 0 || n[3] <= 0 || n[0] < 0 || n[1] < 0 {
		return image.Rectangle{}, fmt.Errorf("region %q: left and top must be >= 0, width and height > 0", s)
	}
	return image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]), nil
}

func checkTolerance(p *engine.Params) float64 {
	t := p.Float("tolerance")
	if t < 0 || t > 1 {
		p.Fail("tolerance", "want a number from 0 to 1, got %v", t)
	}
	return t
}

func checkConstRegion(p *engine.Params) *engine.Template {
	t := p.Template("region")
	if t.IsConst() {
		s, _ := t.String(nil)
		if _, err := ParseRegion(s); err != nil {
			p.Fail("region", "%v", err)
		}
	}
	return t
}

// --- image search ---

// imageSearch is a compiled "find this image" request.
type imageSearch struct {
	image     *engine.Template
	tolerance float64
	region    *engine.Template
	timeout   time.Duration
	interval  time.Duration
	cache     sync.Map // path -> image.Image
}

func newImageSearch(p *engine.Params, imageField string) *imageSearch {
	s := &imageSearch{image: p.Template(imageField), tolerance: checkTolerance(p), region: checkConstRegion(p),
		timeout: p.Duration("timeout"), interval: p.Duration("interval")}
	return s
}

func (s *imageSearch) load(c *engine.Call) (string, image.Image, error) {
	path, err := c.Path(s.image)
	if err != nil {
		return "", nil, fmt.Errorf("image: %w", err)
	}
	if img, ok := s.cache.Load(path); ok {
		return path, img.(image.Image), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return path, nil, fmt.Errorf("template image: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return path, nil, fmt.Errorf("template image %q: %w", path, err)
	}
	s.cache.Store(path, img)
	return path, img, nil
}

// findOnce captures the region and looks for the template once.
func findOnce(d Desktop, tmpl image.Image, region image.Rectangle, tol float64) (Match, bool, error) {
	shot, err := d.Capture(region)
	if err != nil {
		return Match{}, false, fmt.Errorf("capture the screen: %w", err)
	}
	m, ok := FindImage(shot, tmpl, tol)
	if ok {
		m.Rect = m.Rect.Add(region.Min)
	}
	return m, ok, nil
}

// find polls until the image shows (found) or, with vanish, until it is
// gone. In dry runs it assumes the image is found in the middle of the
// region (or screen).
func (s *imageSearch) find(ctx context.Context, e *env, vanish bool) (Match, bool, error) {
	path, tmpl, err := s.load(e.c)
	if err != nil {
		return Match{}, false, err
	}
	rs, err := e.c.Text(s.region)
	if err != nil {
		return Match{}, false, fmt.Errorf("region: %w", err)
	}
	region, err := ParseRegion(rs)
	if err != nil {
		return Match{}, false, err
	}
	where := "on the screen"
	if strings.TrimSpace(rs) == RegionWindow {
		where = "in the active window"
		if !e.dry {
			if region, err = windowArea(e.d); err != nil {
				return Match{}, false, err
			}
		}
	} else if !region.Empty() {
		where = fmt.Sprintf("in %v", region)
	}
	if e.dry {
		verb := "look for"
		if vanish {
			verb = "wait for the disappearance of"
		}
		e.note("%s image %s %s (tolerance %.2f, up to %s)", verb, path, where, s.tolerance, s.timeout)
		r := region
		if r.Empty() {
			w, h, _ := e.d.ScreenSize()
			r = image.Rect(0, 0, w, h)
		}
		b := tmpl.Bounds()
		c := image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
		return Match{Rect: image.Rect(c.X-b.Dx()/2, c.Y-b.Dy()/2, c.X-b.Dx()/2+b.Dx(), c.Y-b.Dy()/2+b.Dy())}, true, nil
	}
	if vanish {
		e.c.Waiting(fmt.Sprintf("the image %s to disappear %s", path, where))
	} else {
		e.c.Waiting(fmt.Sprintf("the image %s %s", path, where))
	}
	var m Match
	ok, err := e.poll(ctx, s.timeout, s.interval, func() (bool, error) {
		var found bool
		var err error
		m, found, err = findOnce(e.d, tmpl, region, s.tolerance)
		return found != vanish, err
	})
	return m, ok, err
}

func matchValue(m Match) map[string]any {
	c := m.Center()
	return map[string]any{"x": c.X, "y": c.Y, "left": m.Rect.Min.X, "top": m.Rect.Min.Y,
		"width": m.Rect.Dx(), "height": m.Rect.Dy(), "score": math.Round(m.Score*10000) / 10000}
}

// --- window matching ---

type titleMatch struct {
	title *engine.Template
	mode  string
	re    sync.Map // pattern -> *regexp.Regexp
}

func newTitleMatch(p *engine.Params, field string) *titleMatch {
	t := &titleMatch{title: p.Template(field), mode: p.Select("match")}
	if t.mode == "regex" && t.title.IsConst() {
		s, _ := t.title.String(nil)
		if _, err := regexp.Compile(s); err != nil {
			p.Fail(field, "bad regular expression: %v", err)
		}
	}
	return t
}

// matcher evaluates the title and returns a predicate and a description.
func (t *titleMatch) matcher(c *engine.Call) (func(string) bool, string, error) {
	s, err := c.Text(t.title)
	if err != nil {
		return nil, "", fmt.Errorf("title: %w", err)
	}
	switch t.mode {
	case "exact":
		return func(x string) bool { return x == s }, fmt.Sprintf("titled %q", s), nil
	case "regex":
		v, ok := t.re.Load(s)
		if !ok {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, "", fmt.Errorf("title: bad regular expression: %w", err)
			}
			v, _ = t.re.LoadOrStore(s, re)
		}
		re := v.(*regexp.Regexp)
		return re.MatchString, fmt.Sprintf("with a title matching /%s/", s), nil
	default:
		ls := strings.ToLower(s)
		return func(x string) bool { return strings.Contains(strings.ToLower(x), ls) }, fmt.Sprintf("with %q in its title", s), nil
	}
}

// findWindow returns the first window whose title matches.
func findWindow(d Desktop, match func(string) bool) (Window, bool, error) {
	ws, err := d.Windows()
	if err != nil {
		return Window{}, false, fmt.Errorf("list windows: %w", err)
	}
	for _, w := range ws {
		if match(w.Title) {
			return w, true, nil
		}
	}
	return Window{}, false, nil
}

func windowTitles(d Desktop) string {
	ws, err := d.Windows()
	if err != nil || len(ws) == 0 {
		return "none"
	}
	var t []string
	for _, w := range ws {
		t = append(t, strconv.Quote(w.Title))
	}
	return strings.Join(t, ", ")
}

// windowArea is the active window's area, clipped to the screen.
func windowArea(d Desktop) (image.Rectangle, error) {
	w, err := d.ActiveWindow()
	if err != nil {
		return image.Rectangle{}, fmt.Errorf("active window: %w", err)
	}
	r := w.Bounds
	if sw, sh, err := d.ScreenSize(); err == nil {
		r = r.Intersect(image.Rect(0, 0, sw, sh))
	}
	if r.Empty() {
		return image.Rectangle{}, fmt.Errorf("active window %s is not on the screen", w)
	}
	return r, nil
}
