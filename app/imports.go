package main

// The activity packages register themselves in engine.Default.
import (
	_ "deskbot/engine/activities"
	_ "deskbot/engine/ocr"
)
