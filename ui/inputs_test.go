package ui

import (
	"testing"

	"deskbot/engine"
)

// The run view shows no inputs, so alone it does not make a run collect
// them (a run at history level "steps" collects none).
func TestBridgeWantsNoInputs(t *testing.T) {
	if (engine.Observers{&bridge{}}).WantsInputs() {
		t.Error("the studio's run view asks for inputs")
	}
}
