//go:build cgo && !windows

package ocr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/otiai10/gosseract/v2"
)

// Built reports whether this build has Tesseract.
const Built = true

var layoutModes = map[string]gosseract.PageSegMode{
	"auto": gosseract.PSM_AUTO, "block": gosseract.PSM_SINGLE_BLOCK,
	"line": gosseract.PSM_SINGLE_LINE, "word": gosseract.PSM_SINGLE_WORD,
}

func recognize(r Request) (*Result, error) {
	langs := strings.Split(r.Language, "+")
	have, err := gosseract.GetAvailableLanguages()
	if err != nil {
		return nil, fmt.Errorf("list Tesseract's languages: %w", err)
	}
	for _, l := range langs {
		if !slices.Contains(have, l) {
			pkg := "tesseract-ocr-" + strings.ReplaceAll(l, "_", "-")
			return nil, fmt.Errorf("Tesseract has no data for the language %s (the Debian package %s provides it; `make deps` installs it)", l, pkg)
		}
	}
	mode, ok := layoutModes[r.Layout]
	if !ok {
		mode = gosseract.PSM_AUTO
	}
	png, err := pngBytes(r.Image)
	if err != nil {
		return nil, err
	}
	c := gosseract.NewClient()
	defer c.Close()
	if err := c.SetLanguage(langs...); err != nil {
		return nil, err
	}
	if err := c.SetPageSegMode(mode); err != nil {
		return nil, err
	}
	if err := c.SetImageFromBytes(png); err != nil {
		return nil, fmt.Errorf("hand the picture to Tesseract: %w", err)
	}
	text, err := c.Text()
	if err != nil {
		return nil, fmt.Errorf("Tesseract: %w", err)
	}
	boxes, err := c.GetBoundingBoxes(gosseract.RIL_WORD)
	if err != nil {
		return nil, fmt.Errorf("Tesseract's words: %w", err)
	}
	res := &Result{Text: text}
	for _, b := range boxes {
		if w := strings.TrimSpace(b.Word); w != "" {
			res.Words = append(res.Words, Word{Text: w, Box: b.Box, Confidence: b.Confidence})
		}
	}
	return res, nil
}
