//go:build windows || darwin

package robot

import (
	"context"
	"fmt"
	"time"

	"github.com/go-vgo/robotgo"
)

// typeEach types text a character at a time, holding the lock for each:
// newline and tab as their keys, carriage returns skipped, any other
// character through typeChar. ctx is checked between characters, and pause
// (if any) follows each. The X11 robot types its own way (keymap and
// pacing by the window's pings).
func (r *Robot) typeEach(ctx context.Context, text string, pause time.Duration, typeChar func(rune) error) error {
	for _, ch := range text {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		r.mu.Lock()
		var err error
		switch ch {
		case '\n':
			err = wrapKey(ch, robotgo.KeyTap("enter"))
		case '\t':
			err = wrapKey(ch, robotgo.KeyTap("tab"))
		case '\r':
		default:
			err = typeChar(ch)
		}
		r.mu.Unlock()
		if err != nil {
			return err
		}
		if pause > 0 {
			if err := sleepCtx(ctx, pause); err != nil {
				return err
			}
		}
	}
	return nil
}

func wrapKey(ch rune, err error) error {
	if err != nil {
		return fmt.Errorf("type %q: %w", ch, err)
	}
	return nil
}
