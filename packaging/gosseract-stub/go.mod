module github.com/otiai10/gosseract

go 1.26
