// Package desktop gives Deskbot's flows hands and eyes on the user's desktop:
// the Desktop interface (mouse, keyboard, screen, clipboard, windows,
// processes), a recording Fake for unit tests and dry runs, the safety layer
// of attended runs (failsafe corner, stop hotkey, release of held keys and
// buttons, pacing between actions, a screenshot as evidence when a step
// fails) and every desktop activity ("Mouse", "Keyboard", "Screen",
// "Clipboard", "Windows", "Apps").
//
// The real implementation on robotgo lives in package desktop/robot. A run
// gets its Desktop through engine.Options.Services:
//
//	d, err := robot.New()            // or desktop.NewFake() for --dry-run
//	desktop.Use(&opts, d)
//	ctx, cancel := context.WithCancelCause(ctx)
//	stop, err := desktop.GuardWith(ctx, d, cancel, desktop.GuardOptions{Hotkey: "ctrl+alt+q"})
//	defer stop()
//	engine.Run(ctx, flow, opts)
//
// # Failsafe corner
//
// Moving the mouse into the top-left corner of the screen (x and y both at
// most FailsafeMargin) stops the run: a watcher polls the pointer every
// 50 ms, and every desktop activity checks it before it acts. The run ends
// with engine.ErrStoppedByUser and status "stopped"; every key and mouse
// button that is still held is released.
package desktop
