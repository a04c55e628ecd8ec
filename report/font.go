package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
)

// FontEnv names an environment variable that overrides the CJK font the
// charts and the PDF use: a TrueType file (.ttf) or collection (.ttc, its
// first face is used).
const FontEnv = "DESKBOT_CJK_FONT"

// fontCandidates are the CJK fonts looked for, in order. Debian's
// fonts-wqy-microhei (in the Makefile's DEB_PKGS) is the first; its Latin
// letters come from Droid Sans, so one face draws mixed text.
var fontCandidates = []string{
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
	`C:\Windows\Fonts\msyh.ttc`,
	`C:\Windows\Fonts\simsun.ttc`,
}

// cjkTypeface is the typeface name the charts register the CJK font under.
const cjkTypeface font.Typeface = "DeskbotCJK"

type loadedFont struct {
	path string
	ttf  []byte // one TrueType face, extracted from a collection if need be
	face *opentype.Font
	err  error
}

var (
	fontOnce sync.Once
	theFont  loadedFont
)

// cjkFont finds and loads the CJK font once.
func cjkFont() (*loadedFont, error) {
	fontOnce.Do(func() { theFont = loadFont() })
	return &theFont, theFont.err
}

func loadFont() loadedFont {
	paths := fontCandidates
	if p := os.Getenv(FontEnv); p != "" {
		paths = []string{p}
	}
	var errs []error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ttf, err := FirstFace(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("font %s: %w", p, err))
			continue
		}
		face, err := opentype.Parse(ttf)
		if err != nil {
			errs = append(errs, fmt.Errorf("font %s: %w", p, err))
			continue
		}
		return loadedFont{path: p, ttf: ttf, face: face}
	}
	return loadedFont{err: fmt.Errorf("no CJK font for reports (install Debian's fonts-wqy-microhei, or set %s to a .ttf or .ttc file): %w", FontEnv, errors.Join(errs...))}
}

// FirstFace returns a font file as a single TrueType face: the data itself
// for a .ttf, the first face rebuilt as a standalone font for a TrueType
// collection (.ttc). PDF writers such as fpdf take only single faces.
func FirstFace(b []byte) ([]byte, error) {
	if len(b) < 12 {
		return nil, errors.New("not a font: too short")
	}
	if string(b[:4]) != "ttcf" {
		if v := binary.BigEndian.Uint32(b); v != 0x00010000 && string(b[:4]) != "true" {
			return nil, fmt.Errorf("not a TrueType font (starts with %q)", b[:4])
		}
		return b, nil
	}
	if binary.BigEndian.Uint32(b[8:]) == 0 {
		return nil, errors.New("font collection holds no face")
	}
	if len(b) < 16 {
		return nil, errors.New("font collection truncated")
	}
	off := int64(binary.BigEndian.Uint32(b[12:]))
	if off+12 > int64(len(b)) {
		return nil, errors.New("font collection: face offset out of range")
	}
	hdr := b[off:]
	n := int64(binary.BigEndian.Uint16(hdr[4:]))
	if n == 0 || off+12+16*n > int64(len(b)) {
		return nil, errors.New("font collection: table directory out of range")
	}
	// The new font: the offset table, the directory, then each table at a
	// 4-byte boundary, with the offsets rewritten.
	size := 12 + 16*n
	type table struct{ off, length int64 }
	tables := make([]table, n)
	for i := int64(0); i < n; i++ {
		rec := hdr[12+16*i:]
		t := table{int64(binary.BigEndian.Uint32(rec[8:])), int64(binary.BigEndian.Uint32(rec[12:]))}
		if t.off+t.length > int64(len(b)) {
			return nil, fmt.Errorf("font collection: table %q out of range", rec[:4])
		}
		tables[i] = t
		size += (t.length + 3) &^ 3
	}
	out := make([]byte, size)
	copy(out, hdr[:12+16*n])
	pos := 12 + 16*n
	for i, t := range tables {
		binary.BigEndian.PutUint32(out[12+16*int64(i)+8:], uint32(pos))
		copy(out[pos:], b[t.off:t.off+t.length])
		pos += (t.length + 3) &^ 3
	}
	return out, nil
}

// chartFonts returns the font cache for charts: the CJK face as the default
// typeface, so Chinese flow names and labels draw, with Liberation beside it.
func chartFonts() (*font.Cache, font.Font, error) {
	f, err := cjkFont()
	if err != nil {
		return nil, font.Font{}, err
	}
	fnt := font.Font{Typeface: cjkTypeface}
	cache := font.NewCache(font.Collection{{Font: fnt, Face: f.face}})
	cache.Add(liberation.Collection())
	return cache, fnt, nil
}
