package desktop

import (
	"context"
	"fmt"
	"sync"
	"unicode/utf8"

	"deskbot/engine"
)

func init() {
	engine.Register(engine.Spec{
		Type: "keyboard.type", Title: "Type text", Category: "Keyboard", SideEffects: true, Icon: "mailCompose",
		Summary: "Types text into the focused window, as if typed on the keyboard. Any Unicode text works.",
		Doc: "Click into the field first. The text takes {{ }} templates, e.g. `{{ row.name }}`. A per-character delay " +
			"helps slow programs keep up. Moving the mouse into the failsafe corner stops typing at the next character.",
		Fields: []engine.Field{
			{Name: "text", Title: "Text", Kind: engine.KindMulti, Required: true},
			{Name: "char_delay", Title: "Delay per character", Kind: engine.KindDur, Default: "0s", Help: "e.g. 20ms; 0 types as fast as the program takes it."},
		},
		New: newType,
	})
	engine.Register(engine.Spec{
		Type: "keyboard.press", Title: "Press keys", Category: "Keyboard", SideEffects: true, Icon: "computer",
		Summary: "Presses a key or a combination such as ctrl+s, alt+f4, shift+tab or enter.",
		Doc: "Modifiers: ctrl, alt, shift, cmd (the Windows/Super key). Keys: letters, digits, punctuation, enter, tab, " +
			"escape, backspace, delete, insert, home, end, pageup, pagedown, up, down, left, right, space, f1 to f24. " +
			"With action `down` the keys stay held until a later `up` step; any stop of the run releases them.",
		Fields: []engine.Field{
			{Name: "keys", Title: "Keys", Kind: engine.KindString, Required: true, Help: "e.g. ctrl+s"},
			{Name: "action", Title: "Action", Kind: engine.KindSelect, Default: "press", Options: []string{"press", "down", "up"}},
			{Name: "times", Title: "Times", Kind: engine.KindInt, Default: 1.0, Help: "How often to press (action press only)."},
		},
		New: newPress,
	})
	engine.Register(engine.Spec{
		Type: "clipboard.get", Title: "Get clipboard", Category: "Clipboard", SideEffects: true, Icon: "contentPaste",
		Summary: "Puts the clipboard's text into a variable.",
		Fields:  []engine.Field{{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "clipboard"}},
		New:     newClipGet,
	})
	engine.Register(engine.Spec{
		Type: "clipboard.set", Title: "Set clipboard", Category: "Clipboard", SideEffects: true, Icon: "contentCopy",
		Summary: "Puts text on the clipboard (then paste it with keys ctrl+v).",
		Fields:  []engine.Field{{Name: "text", Title: "Text", Kind: engine.KindMulti, Required: true}},
		New:     newClipSet,
	})
}

// keymapRuns holds the options of the runs under way that restore the
// keyboard mapping at their end (one run-end hook per run, not per step).
var keymapRuns sync.Map // *engine.Options -> bool

func newType(p *engine.Params) (engine.Activity, error) {
	text := p.Template("text")
	delay := p.Duration("char_delay")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		if !e.dry {
			// However the run ends, the keycodes mapped for typing go back
			// to how they were (the next run may be another process).
			opts := e.c.Options()
			if _, seen := keymapRuns.LoadOrStore(opts, true); !seen {
				d := e.d
				e.c.OnRunEnd(func() {
					keymapRuns.Delete(opts)
					if err := RestoreKeymap(d); err != nil {
						e.c.Log("warn", fmt.Sprintf("restore the keyboard mapping: %v", err))
					}
				})
			}
		}
		s, err := e.c.Text(text)
		if err != nil {
			return "", fmt.Errorf("text: %w", err)
		}
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("text is not valid UTF-8")
		}
		d := delay
		if e.c.Flow().Settings.SlowMotion && d < SlowMotionCharDelay {
			d = SlowMotionCharDelay
		}
		e.c.Output("characters", utf8.RuneCountInString(s))
		return "", e.do(ctx, func() error { return e.d.TypeText(ctx, s, d) })
	}}, p.Err()
}

func newPress(p *engine.Params) (engine.Activity, error) {
	src := p.String("keys")
	k, err := ParseKey(src)
	if err != nil && src != "" {
		p.Fail("keys", "%v", err)
	}
	action := p.Select("action")
	times := p.Int("times")
	if times < 1 || times > 1000 {
		p.Fail("times", "want 1 to 1000, got %d", times)
	}
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		switch action {
		case "down":
			// Whatever ends the run lets go of held keys.
			e.c.OnRunEnd(func() { e.d.ReleaseAll() })
			return "", e.do(ctx, func() error { return e.d.KeyToggle(k, true) })
		case "up":
			return "", e.do(ctx, func() error { return e.d.KeyToggle(k, false) })
		}
		for i := 0; i < times; i++ {
			if err := e.do(ctx, func() error { return e.d.KeyTap(k) }); err != nil {
				return "", err
			}
		}
		return "", nil
	}}, p.Err()
}

func newClipGet(p *engine.Params) (engine.Activity, error) {
	out := p.Var("output")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		var s string
		err := e.do(ctx, func() error {
			var err error
			s, err = e.d.ClipboardGet()
			return err
		})
		if err != nil {
			return "", err
		}
		return "", e.c.Set(out, s)
	}}, p.Err()
}

func newClipSet(p *engine.Params) (engine.Activity, error) {
	text := p.Template("text")
	return &act{run: func(ctx context.Context, e *env) (string, error) {
		s, err := e.c.Text(text)
		if err != nil {
			return "", fmt.Errorf("text: %w", err)
		}
		return "", e.do(ctx, func() error { return e.d.ClipboardSet(s) })
	}}, p.Err()
}
