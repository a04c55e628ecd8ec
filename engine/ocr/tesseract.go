//go:build cgo && !windows

package ocr

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/otiai10/gosseract/v2"
)

// Built reports whether this build has Tesseract.
const Built = true

var layoutModes = map[string]gosseract.PageSegMode{
	"auto": gosseract.PSM_AUTO, "block": gosseract.PSM_SINGLE_BLOCK,
	"line": gosseract.PSM_SINGLE_LINE, "word": gosseract.PSM_SINGLE_WORD,
}

// Loading a language's data takes most of a short read's time, so a
// recognition keeps its client for the next one with the same languages:
// at most one idle client per language choice. A client that failed is
// closed, not kept.
var pool = struct {
	sync.Mutex
	idle map[string]*gosseract.Client
}{idle: map[string]*gosseract.Client{}}

func takeClient(lang string) *gosseract.Client {
	pool.Lock()
	defer pool.Unlock()
	if c := pool.idle[lang]; c != nil {
		delete(pool.idle, lang)
		return c
	}
	c := gosseract.NewClient()
	c.SetLanguage(strings.Split(lang, "+")...) // never fails with languages
	// Tesseract's notes ("Estimating resolution as 298") would land on the
	// terminal of `deskbot run`.
	c.SetVariable("debug_file", os.DevNull)
	return c
}

func giveClient(lang string, c *gosseract.Client, ok bool) {
	pool.Lock()
	defer pool.Unlock()
	if !ok || pool.idle[lang] != nil {
		c.Close()
		return
	}
	pool.idle[lang] = c
}

func recognize(r Request) (res *Result, err error) {
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
	c := takeClient(r.Language)
	kept := false
	defer func() { giveClient(r.Language, c, kept) }()
	// As a variable, the mode holds from the first read of a new client
	// on (SetPageSegMode before Tesseract's Init would be reset by it).
	if err := c.SetVariable("tessedit_pageseg_mode", strconv.Itoa(int(mode))); err != nil {
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
	res = &Result{Text: text}
	for _, b := range boxes {
		if w := strings.TrimSpace(b.Word); w != "" {
			res.Words = append(res.Words, Word{Text: w, Box: b.Box, Confidence: b.Confidence})
		}
	}
	kept = true
	return res, nil
}
