// Package icon holds Deskbot's icon: deskbot.svg is the source, the PNGs are
// rendered from it (make icons), and the studio's window shows Resource.
package icon

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed deskbot-256.png
var png256 []byte

// Resource is the icon as a 256x256 PNG, for fyne's App.SetIcon.
var Resource = fyne.NewStaticResource("deskbot.png", png256)
