package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Dialogs asks the person at the computer during an attended run. The run
// pauses in the call until the person answers; when ctx ends (the Stop
// button, a node timeout) the dialog goes away and the call returns the
// context's cause. The studio shows fyne dialogs, `deskbot run` prompts on
// its terminal, and tests answer through ScriptedDialogs.
//
// A dialog closed without an answer (its window closed, end of input on a
// terminal) gives ErrDialogCancelled.
type Dialogs interface {
	Message(ctx context.Context, m Message) error
	Confirm(ctx context.Context, q Confirm) (bool, error)
	// Form returns one value per field, by the field's name: a string for
	// text, password and choice fields, a float64 for number fields.
	Form(ctx context.Context, f Form) (map[string]any, error)
	// Pick returns the absolute path of the file or folder chosen.
	Pick(ctx context.Context, p Pick) (string, error)
}

// ErrDialogCancelled is what a dialog gives when the person closed it
// without answering.
var ErrDialogCancelled = errors.New("the dialog was closed without an answer")

// Message levels.
const (
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"
)

// Message is a text the person acknowledges with OK.
type Message struct {
	Title string
	Text  string
	Level string // LevelInfo (""), LevelWarning or LevelError
}

// Confirm is a yes/no question.
type Confirm struct {
	Title string
	Text  string
	Yes   string // the yes button's text; "" means "Yes"
	No    string // the no button's text; "" means "No"
}

// Form field kinds.
const (
	FormText     = "text"
	FormNumber   = "number"
	FormPassword = "password"
	FormChoice   = "choice"
)

// FormKinds are the kinds a form field can have.
var FormKinds = []string{FormText, FormNumber, FormPassword, FormChoice}

// FormField is one input of a Form.
type FormField struct {
	Name    string // the variable the answer goes into
	Label   string
	Kind    string   // one of FormKinds
	Default string   // the value shown first ("" for none)
	Options []string // the choices of a choice field
}

// Form asks for several values at once.
type Form struct {
	Title  string
	Text   string
	Fields []FormField
}

// Pick asks for a file or a folder.
type Pick struct {
	Title  string
	Folder bool     // a folder rather than a file
	Save   bool     // a file to write (it may not exist yet)
	Filter []string // file extensions such as ".csv"; none means all files
	Dir    string   // the folder to start in ("" for the default)
	Name   string   // the file name suggested when saving
}

// CheckNumber parses a number field's answer.
func CheckNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// FormValue checks an answer to field f and converts it: number fields give
// a float64, choice fields must give one of the options.
func FormValue(f FormField, answer string) (any, error) {
	switch f.Kind {
	case FormNumber:
		return CheckNumber(answer)
	case FormChoice:
		for _, o := range f.Options {
			if o == answer {
				return answer, nil
			}
		}
		return nil, fmt.Errorf("%q is not one of %s", answer, strings.Join(f.Options, ", "))
	}
	return answer, nil
}

// MatchesFilter reports whether the file name has one of the filter's
// extensions (any name when the filter is empty). Case is ignored.
func MatchesFilter(name string, filter []string) bool {
	if len(filter) == 0 {
		return true
	}
	ext := strings.ToLower(filepath.Ext(name))
	for _, f := range filter {
		if strings.ToLower(f) == ext {
			return true
		}
	}
	return false
}

type dialogsKey struct{}

// UseDialogs makes d answer the dialogs of runs started with opts.
func UseDialogs(opts *Options, d Dialogs) {
	if opts.Services == nil {
		opts.Services = map[any]any{}
	}
	opts.Services[dialogsKey{}] = d
}

// DialogsFrom returns the run's dialogs, or an error saying no one can
// answer them.
func DialogsFrom(c *Call) (Dialogs, error) {
	d, _ := c.Service(dialogsKey{}).(Dialogs)
	if d == nil {
		return nil, errors.New("this flow asks the user, but this run has no one to ask (the program running the flow must call engine.UseDialogs); run it in the studio or on a terminal")
	}
	return d, nil
}

// DialogRequest is one dialog that ScriptedDialogs was asked to show. Exactly
// one of Message, Confirm, Form and Pick is set.
type DialogRequest struct {
	Message *Message
	Confirm *Confirm
	Form    *Form
	Pick    *Pick
	reply   chan dialogReply
}

type dialogReply struct {
	v   any
	err error
}

// Kind is "message", "confirm", "form" or "pick".
func (r *DialogRequest) Kind() string {
	switch {
	case r.Message != nil:
		return "message"
	case r.Confirm != nil:
		return "confirm"
	case r.Form != nil:
		return "form"
	}
	return "pick"
}

// Answer answers the dialog: nothing for a message (nil), a bool for a
// confirm, a map[string]any for a form, a string path for a pick. Only the
// first answer counts; it never blocks.
func (r *DialogRequest) Answer(v any) {
	select {
	case r.reply <- dialogReply{v: v}:
	default:
	}
}

// Cancel closes the dialog without an answer.
func (r *DialogRequest) Cancel() {
	select {
	case r.reply <- dialogReply{err: ErrDialogCancelled}:
	default:
	}
}

// ScriptedDialogs is a Dialogs for tests and unattended harnesses: each
// dialog is sent on Requests and the call waits until the receiver answers
// it (or the run's context ends).
type ScriptedDialogs struct {
	Requests chan *DialogRequest
}

// NewScriptedDialogs returns a ScriptedDialogs with an unbuffered Requests
// channel: a run asking a question waits until the test takes it.
func NewScriptedDialogs() *ScriptedDialogs {
	return &ScriptedDialogs{Requests: make(chan *DialogRequest)}
}

// AnswerWith answers every dialog with answer(request) from a goroutine
// until ctx ends: a harness that confirms everything, say. A nil value with
// cancel true cancels the dialog.
func (s *ScriptedDialogs) AnswerWith(ctx context.Context, answer func(*DialogRequest) (v any, cancel bool)) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-s.Requests:
				if v, cancel := answer(r); cancel {
					r.Cancel()
				} else {
					r.Answer(v)
				}
			}
		}
	}()
}

func (s *ScriptedDialogs) ask(ctx context.Context, r *DialogRequest) (any, error) {
	r.reply = make(chan dialogReply, 1)
	select {
	case s.Requests <- r:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	select {
	case a := <-r.reply:
		return a.v, a.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Message implements Dialogs.
func (s *ScriptedDialogs) Message(ctx context.Context, m Message) error {
	_, err := s.ask(ctx, &DialogRequest{Message: &m})
	return err
}

// Confirm implements Dialogs.
func (s *ScriptedDialogs) Confirm(ctx context.Context, q Confirm) (bool, error) {
	v, err := s.ask(ctx, &DialogRequest{Confirm: &q})
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("scripted answer to a confirm is %T, want a bool", v)
	}
	return b, nil
}

// Form implements Dialogs.
func (s *ScriptedDialogs) Form(ctx context.Context, f Form) (map[string]any, error) {
	v, err := s.ask(ctx, &DialogRequest{Form: &f})
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("scripted answer to a form is %T, want a map[string]any", v)
	}
	return m, nil
}

// Pick implements Dialogs.
func (s *ScriptedDialogs) Pick(ctx context.Context, p Pick) (string, error) {
	v, err := s.ask(ctx, &DialogRequest{Pick: &p})
	if err != nil {
		return "", err
	}
	path, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("scripted answer to a pick is %T, want a string", v)
	}
	return path, nil
}
