// Package activities holds Deskbot's file, CSV and program activities.
// Each activity registers its spec in engine.Default from init(); import the
// package for its side effect (`import _ "deskbot/engine/activities"`).
package activities
