package robot

import (
	"time"

	"github.com/robotn/xgb"
)

// CloseX closes an xgb connection and waits (at most 2 s) until its reader
// goroutine has returned. xgb's Close only starts the shutdown; a reader
// still running when the X server goes away calls Close again on its read
// error, and a second Close panics the process ("close of closed channel",
// seen in CI when a test's Xvfb stopped right after a connection was
// closed). Every connection Deskbot opens is closed through CloseX.
func CloseX(c *xgb.Conn) {
	if c == nil {
		return
	}
	c.Close()
	done := make(chan struct{})
	go func() {
		for {
			if ev, err := c.WaitForEvent(); ev == nil && err == nil {
				close(done) // the reader closed its event channel: it has returned
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}
