//go:build !cgo || windows

package ocr_test

import (
	"context"
	"errors"
	"image"
	"strings"
	"testing"

	"deskbot/engine"
	"deskbot/engine/ocr"
)

// Without Tesseract, ocr.read is still there and says why it cannot read.
func TestOCRNotBuilt(t *testing.T) {
	if ocr.Built {
		t.Fatal("Built in a build without cgo")
	}
	if _, ok := engine.Default.Spec("ocr.read"); !ok {
		t.Fatal("ocr.read is not registered")
	}
	_, err := ocr.Read(context.Background(), ocr.Request{Image: image.NewRGBA(image.Rect(0, 0, 4, 4)), Language: "eng"})
	if !errors.Is(err, ocr.ErrNotBuilt) || !strings.Contains(err.Error(), "OCR is not part of this build") {
		t.Fatalf("%v", err)
	}
}
