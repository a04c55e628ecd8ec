// Command formapp is the target window of Deskbot's desktop end-to-end tests
// and of the sample flow fill-form-from-csv: a small contact form (name,
// email, notes) with picture anchors and a picture Save button. It writes
// its state as JSON to the -state file after every change, so that a test
// can read back what a flow did to it.
//
//	go run ./assets/formapp -state /tmp/form.json
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

var (
	//go:embed save-button.png
	saveButtonPNG []byte
	//go:embed name-anchor.png
	nameAnchorPNG []byte
	//go:embed email-anchor.png
	emailAnchorPNG []byte
)

// Contact is one saved form.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Notes string `json:"notes,omitempty"`
}

// State is what the program writes to the state file.
type State struct {
	Title      string    `json:"title"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	Notes      string    `json:"notes"`
	Saved      []Contact `json:"saved"`
	SaveClicks int       `json:"save_clicks"`
	Started    bool      `json:"started"`
}

// picture is a tappable image drawn at its own pixel size.
type picture struct {
	widget.BaseWidget
	img   *canvas.Image
	onTap func()
}

func newPicture(data []byte, name string, onTap func()) *picture {
	im, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		log.Fatalf("decode %s: %v", name, err)
	}
	ci := canvas.NewImageFromImage(im)
	ci.FillMode = canvas.ImageFillOriginal
	ci.ScaleMode = canvas.ImageScalePixels
	b := im.Bounds()
	ci.SetMinSize(fyne.NewSize(float32(b.Dx()), float32(b.Dy())))
	p := &picture{img: ci, onTap: onTap}
	p.ExtendBaseWidget(p)
	return p
}

func (p *picture) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(p.img) }

func (p *picture) MinSize() fyne.Size { return p.img.MinSize() }

// Tapped implements fyne.Tappable.
func (p *picture) Tapped(*fyne.PointEvent) {
	if p.onTap != nil {
		p.onTap()
	}
}

func main() {
	statePath := flag.String("state", "", "write the form's state as JSON to this file")
	title := flag.String("title", "Deskbot Test Form", "window title")
	flag.Parse()

	var mu sync.Mutex
	st := State{Title: *title, Saved: []Contact{}}
	write := func() {
		if *statePath == "" {
			return
		}
		mu.Lock()
		b, _ := json.MarshalIndent(st, "", "  ")
		mu.Unlock()
		tmp := *statePath + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			log.Printf("write state: %v", err)
			return
		}
		if err := os.Rename(tmp, *statePath); err != nil {
			log.Printf("write state: %v", err)
		}
	}

	a := app.NewWithID("deskbot.testform")
	w := a.NewWindow(*title)
	name, email, notes := widget.NewEntry(), widget.NewEntry(), widget.NewMultiLineEntry()
	name.SetPlaceHolder("Name")
	email.SetPlaceHolder("Email")
	notes.SetPlaceHolder("Notes")
	notes.SetMinRowsVisible(3)
	name.OnChanged = func(s string) { mu.Lock(); st.Name = s; mu.Unlock(); write() }
	email.OnChanged = func(s string) { mu.Lock(); st.Email = s; mu.Unlock(); write() }
	notes.OnChanged = func(s string) { mu.Lock(); st.Notes = s; mu.Unlock(); write() }
	saved := widget.NewLabel("Saved: 0")
	list := widget.NewLabel("")
	save := newPicture(saveButtonPNG, "save-button.png", func() {
		mu.Lock()
		st.SaveClicks++
		st.Saved = append(st.Saved, Contact{Name: name.Text, Email: email.Text, Notes: notes.Text})
		n := len(st.Saved)
		var lines []string
		for i, c := range st.Saved {
			lines = append(lines, itoa(i+1)+". "+c.Name+" <"+c.Email+">")
		}
		mu.Unlock()
		list.SetText(strings.Join(lines, "\n"))
		name.SetText("")
		email.SetText("")
		notes.SetText("")
		saved.SetText("Saved: " + itoa(n))
		w.Canvas().Focus(name)
		write()
	})
	row := func(anchor []byte, an string, e *widget.Entry) fyne.CanvasObject {
		return container.NewBorder(nil, nil, newPicture(anchor, an, nil), nil, e)
	}
	w.SetContent(container.NewVBox(
		widget.NewLabel("Contact"),
		row(nameAnchorPNG, "name-anchor.png", name),
		row(emailAnchorPNG, "email-anchor.png", email),
		notes,
		container.NewHBox(save, saved),
		list,
	))
	w.Resize(fyne.NewSize(460, 420))
	a.Lifecycle().SetOnStarted(func() {
		mu.Lock()
		st.Started = true
		mu.Unlock()
		write()
	})
	if *statePath != "" {
		_ = os.MkdirAll(filepath.Dir(*statePath), 0o755)
	}
	w.ShowAndRun()
}

func itoa(n int) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
