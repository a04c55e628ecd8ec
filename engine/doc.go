// Package engine is the heart of Deskbot: flow documents (versioned JSON),
// the activity registry, lint, and the runner that interprets a flow graph.
//
// A flow is a graph of nodes. Each node names an activity type registered in
// a Registry; each activity declares a Spec (type, category, fields, ports,
// docs) and a constructor that validates the node's params once. The Runner
// starts at the flow's single control.start node and follows the port each
// activity returns along the flow's edges.
//
// The engine never imports fyne: the studio (package ui) and the command line
// (package main in app/) are thin layers over it.
package engine
