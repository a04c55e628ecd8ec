// Package activities holds Deskbot's file, CSV, program, email (SMTP, IMAP) and
// HTTP activities.
// Each activity registers its spec in engine.Default from init(); import the
// package for its side effect (`import _ "deskbot/engine/activities"`).
package activities
