// Package gosseract is an empty stand-in for the v1 import path
// github.com/otiai10/gosseract. robotgo v0.110.8 imports that path from a file
// behind its `ocr` build tag; the module proxy does not serve it, which makes
// `go mod tidy` fail. Deskbot never builds robotgo with the `ocr` tag, so the
// stand-in only has to exist for the module graph to resolve.
package gosseract
