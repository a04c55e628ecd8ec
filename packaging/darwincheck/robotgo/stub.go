//go:build darwin

// Package robotgo, for `make lint-platforms` only: the API Deskbot's
// engine/desktop/robot uses, without cgo, so that robot_darwin.go is
// type-checked for macOS on Linux (macOS's cgo needs its SDK). It replaces
// the real package through a go.work replace (vet.sh) and is never built into a
// binary.
package robotgo

import "image"

func CaptureImg(args ...int) (image.Image, error)     { return nil, nil }
func Click(args ...interface{})                       {}
func GetScreenSize() (int, int)                       { return 0, 0 }
func KeyTap(key string, args ...interface{}) error    { return nil }
func KeyToggle(key string, args ...interface{}) error { return nil }
func Location() (int, int)                            { return 0, 0 }
func Move(x, y int, displayId ...int)                 {}
func MoveSmooth(x, y int, args ...interface{}) bool   { return true }
func ReadAll() (string, error)                        { return "", nil }
func ScrollDir(x int, direction ...interface{})       {}
func Toggle(key ...interface{}) error                 { return nil }
func TypeStr(str string, args ...int)                 {}
func WriteAll(text string) error                      { return nil }
