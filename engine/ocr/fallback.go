//go:build !cgo || windows

package ocr

// Built reports whether this build has Tesseract.
const Built = false

func recognize(Request) (*Result, error) { return nil, ErrNotBuilt }
