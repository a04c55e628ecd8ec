package ui

// Group box geometry in document units.
const (
	groupPad    = 20 // between a group's border and its nodes
	groupTitleH = 24 // the title bar, which is where a group is dragged
)
