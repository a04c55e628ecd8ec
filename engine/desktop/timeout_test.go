package desktop_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/engine/desktop"
)

// A desktop node that runs past its node timeout says what it was waiting
// for, names the node, and leaves a failure screenshot.
func TestNodeTimeoutSaysWhatAndLeavesScreenshot(t *testing.T) {
	fake := desktop.NewFake()
	f := chain(step{"w", "window.wait", map[string]any{"title": "Invoice 42", "timeout": "1m"}})
	n := f.Node("w")
	n.Label = "Wait for the invoice"
	n.Timeout = engine.Duration(80 * time.Millisecond)
	r := runFlow(t, f, fake, nil)
	var te *engine.TimeoutError
	if !errors.As(r.err, &te) {
		t.Fatalf("want a timeout error, got %v", r.err)
	}
	for _, want := range []string{"timed out after 80ms", `"Wait for the invoice" (w)`, "Invoice 42"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q does not contain %q", r.err, want)
		}
	}
	shot, _ := r.finished("w").Outputs["screenshot"].(string)
	if _, err := os.Stat(shot); err != nil || !strings.Contains(shot, "failure-w") {
		t.Fatalf("no failure screenshot after the timeout: %q %v (outputs %v)", shot, err, r.finished("w").Outputs)
	}
}
