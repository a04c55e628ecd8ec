// Package ui is the Deskbot studio: a thin fyne layer over the engine and
// the store. Office staff drag activities from the palette onto the flow
// canvas, connect output ports to nodes, fill in property forms generated
// from the activity specs, and run or debug the flow while watching the
// running node, the output and the variables.
//
// The flow document (engine.Flow) is the truth. Document wraps it with
// undo/redo (whole-document JSON snapshots) and change notification; every
// view — FlowCanvas, the property form, the problems list — is rebuilt from
// it after each change.
//
// # Why an own canvas widget instead of fyne-x diagramwidget
//
// fyne.io/x/fyne's widget/diagramwidget at the current revision needs fyne
// v2.8 (and with it libwayland-dev and libxkbcommon-dev or the x11 tag),
// while Deskbot pins v2.7.1. Beyond the version, diagramwidget keeps its own
// model of nodes and links: the studio would have to mirror the flow into
// it and mirror every user change back, two truths kept in step, and fit
// the engine's named ports (one edge per port) onto its link pads. FlowCanvas
// (graph.go, graph_render.go, about 1,250 lines) reads node positions and
// edges straight from the engine.Flow, draws labelled ports from
// Spec.OutPorts, reuses its canvas objects between frames and culls what is
// off screen, so a 500-node flow opens and drags smoothly.
//
// # Threads
//
// Runs execute on their own goroutine. Exactly one type hands their results
// to widgets: bridge (bridge.go), an engine.Observer that coalesces events
// and applies them on the UI goroutine through fyne.Do. No other code in
// this package calls fyne.Do.
package ui
