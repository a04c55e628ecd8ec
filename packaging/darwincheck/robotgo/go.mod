module github.com/go-vgo/robotgo

go 1.26
