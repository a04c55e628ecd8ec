// Package ocr reads text out of pictures: an image file, or a region of the
// screen that the run's desktop captures (see package desktop). The
// recognition is Tesseract's, through github.com/otiai10/gosseract/v2 and
// cgo; Debian's libtesseract-dev with tesseract-ocr-eng and
// tesseract-ocr-chi-sim provide it (`make deps`). A build without cgo, and
// the Windows build, register the same ocr.read activity, which then fails
// with an error saying that OCR is not part of the build.
//
// Import the package for its side effect: `import _ "deskbot/engine/ocr"`.
package ocr
