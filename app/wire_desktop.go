package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"deskbot/engine"
	"deskbot/engine/desktop"
	"deskbot/engine/desktop/robot"
)

func init() {
	serviceWirers = append(serviceWirers, wireDesktop)
}

// The real desktop is opened once per process, on the first desktop step of
// the first run that has one (robotgo keeps one X display per process).
var (
	robotMu sync.Mutex
	shared  *robot.Robot
)

func openRobot() (*robot.Robot, error) {
	robotMu.Lock()
	defer robotMu.Unlock()
	if shared != nil {
		return shared, nil
	}
	r, err := robot.Open()
	if err != nil {
		return nil, err // tried again by the next run
	}
	shared = r
	return r, nil
}

// stopHotkey is the global stop hotkey: DESKBOT_STOP_HOTKEY, "off" for none.
func stopHotkey() string {
	switch h := os.Getenv("DESKBOT_STOP_HOTKEY"); h {
	case "":
		return desktop.DefaultStopHotkey
	case "off", "none":
		return ""
	default:
		return h
	}
}

// wireDesktop gives a run its desktop: the recording fake in dry runs, else
// the X display, opened at the run's first desktop step. The failsafe
// corner is watched for the whole run; the stop hotkey is grabbed when the
// run first touches the desktop and let go when it ends.
func wireDesktop(ctx context.Context, stop context.CancelCauseFunc, opts *engine.Options) error {
	if opts.DryRun {
		desktop.Use(opts, desktop.NewFake())
		return nil
	}
	hotkey := stopHotkey()
	var (
		mu     sync.Mutex
		unhook func()
		ended  bool
	)
	d := desktop.Lazy(func() (desktop.Desktop, error) {
		r, err := openRobot()
		if err != nil {
			return nil, err
		}
		if hotkey != "" {
			u, err := r.WatchHotkey(hotkey, func() {
				stop(desktop.ErrHotkey)
				r.ReleaseAll()
			})
			mu.Lock()
			if err != nil {
				warn(opts, fmt.Sprintf("the stop hotkey %s is not available (%v); the failsafe corner still stops the run", hotkey, err))
			} else if ended {
				u()
			} else {
				unhook = u
			}
			mu.Unlock()
		}
		return r, nil
	})
	desktop.Use(opts, d)
	guard := desktop.Guard(ctx, d, stop)
	context.AfterFunc(ctx, func() {
		guard()
		mu.Lock()
		ended = true
		u := unhook
		unhook = nil
		mu.Unlock()
		if u != nil {
			u()
		}
	})
	return nil
}

// warn puts a warning into the run's log (the CLI's output, the studio's
// Output tab, the recorded run); it is called on the run's goroutine.
func warn(opts *engine.Options, msg string) {
	if opts.Observer == nil {
		fmt.Fprintln(os.Stderr, "deskbot:", msg)
		return
	}
	opts.Observer.Event(engine.Event{Kind: engine.EventLog, Time: time.Now(), RunID: opts.RunID, Level: "warn", Message: msg})
}

// minimizeStudio minimizes the studio's own window (this process's window
// with that title, else any with it) through the window manager, waits
// until it has lost the focus, and returns what brings it back.
func minimizeStudio(title string) (restore func(), err error) {
	r, err := openRobot()
	if err != nil {
		return nil, err
	}
	ws, err := r.Windows()
	if err != nil {
		return nil, err
	}
	var id uint32
	for _, w := range ws {
		if w.Title == title && (id == 0 || w.PID == os.Getpid()) {
			id = w.ID
		}
	}
	if id == 0 {
		return nil, fmt.Errorf("no window titled %q", title)
	}
	if err := r.MinimizeWindow(id); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if a, err := r.ActiveWindow(); err != nil || a.ID != id {
			break
		}
	}
	return func() { r.ActivateWindow(id) }, nil
}

// openScreen gives the studio the X display for picking on the screen.
func openScreen() (desktop.Desktop, error) { return openRobot() }
