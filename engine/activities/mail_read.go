package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset" // also decodes ISO-8859-*, GB2312, Shift_JIS... bodies
	"github.com/emersion/go-message/mail"

	"deskbot/engine"
	"deskbot/engine/cred"
)

func init() {
	engine.Register(engine.Spec{
		Type: "mail.read", Title: "Read email", Category: "Email", SideEffects: true, Icon: "mailReply",
		Summary: "Lists the messages of an IMAP folder into a table, and can save their attachments and mark them seen.",
		Doc: "Each row has `uid`, `from`, `to`, `cc`, `subject`, `date` (RFC 3339), `text`, `html`, `attachments` " +
			"(file names) and `files` (the saved paths, when `save_to` is set). Rows come oldest first; with `limit`, " +
			"the newest ones. Filters: `unseen`, `from` and `subject` (contain, as the server searches), `since` " +
			"(a date, 2006-01-02). Attachments are saved as UID_NAME so that two messages' files never clash; " +
			"names are cut to their base name. The folder is opened read-only unless `mark_seen` is on.",
		Fields: append(serverFields(tlsImplicit, "993 for tls, 143 for starttls and none"),
			engine.Field{Name: "folder", Title: "Folder", Kind: engine.KindText, Default: "INBOX"},
			engine.Field{Name: "unseen", Title: "Only unseen", Kind: engine.KindBool, Default: false},
			engine.Field{Name: "from", Title: "From contains", Kind: engine.KindText},
			engine.Field{Name: "subject", Title: "Subject contains", Kind: engine.KindText},
			engine.Field{Name: "since", Title: "Since", Kind: engine.KindText, Help: "A date, e.g. 2026-01-31; or {{ expr }}."},
			engine.Field{Name: "limit", Title: "At most", Kind: engine.KindInt, Default: 50.0, Help: "The newest messages; 0 for all."},
			engine.Field{Name: "save_to", Title: "Save attachments to", Kind: engine.KindPath, Help: "A folder; made if missing. Empty: do not save."},
			engine.Field{Name: "mark_seen", Title: "Mark as seen", Kind: engine.KindBool, Default: false},
			engine.Field{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "messages"},
		),
		New: newReadMail,
	})
}

// MaxReadMessage bounds one message that mail.read fetches.
const MaxReadMessage = 50 << 20

type readMail struct {
	srv                   *server
	folder, from, subject *engine.Template
	since, saveTo         *engine.Template
	hasSave               bool
	unseen, markSeen      bool
	limit                 int
	output                string
}

func newReadMail(p *engine.Params) (engine.Activity, error) {
	a := &readMail{
		srv:    parseServer(p, "IMAP", map[string]int{tlsImplicit: 993, tlsStart: 143, tlsNone: 143}),
		folder: p.Template("folder"), from: p.Template("from"), subject: p.Template("subject"), since: p.Template("since"),
		saveTo: p.Template("save_to"), hasSave: p.Has("save_to"),
		unseen: p.Bool("unseen"), markSeen: p.Bool("mark_seen"), limit: p.Int("limit"), output: p.Var("output"),
	}
	if a.limit < 0 {
		p.Fail("limit", "want 0 or more, got %d", a.limit)
	}
	if !p.Has("credential") {
		p.Fail("credential", "IMAP needs a login: name a credential (see `deskbot cred set`)")
	}
	return a, nil
}

func (a *readMail) Run(ctx context.Context, c *engine.Call) (string, error) {
	folder, err := c.Text(a.folder)
	if err != nil {
		return "", fmt.Errorf("folder: %w", err)
	}
	if folder == "" {
		folder = "INBOX"
	}
	crit := &imap.SearchCriteria{}
	if a.unseen {
		crit.NotFlag = []imap.Flag{imap.FlagSeen}
	}
	for _, h := range []struct {
		key string
		t   *engine.Template
	}{{"From", a.from}, {"Subject", a.subject}} {
		v, err := c.Text(h.t)
		if err != nil {
			return "", fmt.Errorf("%s: %w", strings.ToLower(h.key), err)
		}
		if v != "" {
			crit.Header = append(crit.Header, imap.SearchCriteriaHeaderField{Key: h.key, Value: v})
		}
	}
	if s, err := c.Text(a.since); err != nil {
		return "", fmt.Errorf("since: %w", err)
	} else if s = strings.TrimSpace(s); s != "" {
		d, err := parseDay(s)
		if err != nil {
			return "", fmt.Errorf("since: %w", err)
		}
		crit.Since = d
	}
	saveTo := ""
	if a.hasSave {
		if saveTo, err = c.Path(a.saveTo); err != nil {
			return "", fmt.Errorf("save_to: %w", err)
		}
		if err := os.MkdirAll(saveTo, 0o755); err != nil {
			return "", fmt.Errorf("save_to: %w", err)
		}
	}
	srv, err := a.srv.resolve(c)
	if err != nil {
		return "", err
	}
	rows, err := srv.read(ctx, folder, crit, a.limit, a.markSeen, saveTo)
	if err != nil {
		return "", cred.Scrub(err, srv.secret)
	}
	c.Output("messages", len(rows))
	return "", c.Set(a.output, rows)
}

// DryRun says which folder would be read; the variable gets an empty
// table, so that the steps after it can run.
func (a *readMail) DryRun(_ context.Context, c *engine.Call) (string, error) {
	folder, err := c.Text(a.folder)
	if err != nil {
		return "", fmt.Errorf("folder: %w", err)
	}
	if folder == "" {
		folder = "INBOX"
	}
	srv, err := a.srv.resolveCred(c, false)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would read folder %q of %s; %s is an empty table", folder, srv.who(), a.output)
	return "", c.Set(a.output, []any{})
}

// parseDay reads a date: 2006-01-02, or RFC 3339.
func parseDay(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02", time.RFC3339, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date such as 2026-01-31", s)
}

func (c *conn) imapErr(ctx context.Context, stage string, err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAuthenticationFailed || stage == "login" && errors.As(err, &ie) {
		return fmt.Errorf("%s: login refused (wrong user name or password?): %v", c.who(), err)
	}
	if errors.Is(err, errNoAnswer) {
		return fmt.Errorf("%s: %s: %v", c.who(), stage, err)
	}
	if strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") {
		return c.tlsErr(err)
	}
	return c.ctxErr(ctx, fmt.Errorf("%s: %s failed: %v", c.who(), stage, err))
}

// read lists the messages of folder matching crit.
func (c *conn) read(ctx context.Context, folder string, crit *imap.SearchCriteria, limit int, markSeen bool, saveTo string) ([]any, error) {
	nc, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	defer watch(ctx, nc)()
	opts := &imapclient.Options{TLSConfig: c.tlsConf, WordDecoder: &mime.WordDecoder{CharsetReader: charsetReader}}
	var cl *imapclient.Client
	if c.mode == tlsStart {
		if cl, err = imapclient.NewStartTLS(nc, opts); err != nil {
			return nil, c.imapErr(ctx, "STARTTLS", err)
		}
	} else {
		cl = imapclient.New(nc, opts)
	}
	defer cl.Close()
	if err := c.bounded(ctx, nc, func() error { return cl.Login(c.user, c.secret).Wait() }); err != nil {
		return nil, c.imapErr(ctx, "login", err)
	}
	if err := c.bounded(ctx, nc, func() error { _, err := cl.Select(folder, &imap.SelectOptions{ReadOnly: !markSeen}).Wait(); return err }); err != nil {
		return nil, c.imapErr(ctx, fmt.Sprintf("opening folder %q", folder), err)
	}
	var sd *imap.SearchData
	if err := c.bounded(ctx, nc, func() (err error) { sd, err = cl.UIDSearch(crit, nil).Wait(); return err }); err != nil {
		return nil, c.imapErr(ctx, "search", err)
	}
	uids := sd.AllUIDs()
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	if limit > 0 && len(uids) > limit {
		uids = uids[len(uids)-limit:]
	}
	rows := []any{}
	if len(uids) == 0 {
		c.bounded(ctx, nc, func() error { return cl.Logout().Wait() })
		return rows, nil
	}
	set := imap.UIDSetNum(uids...)
	section := &imap.FetchItemBodySection{Peek: true}
	var msgs []*imapclient.FetchMessageBuffer
	if err := c.bounded(ctx, nc, func() (err error) {
		msgs, err = cl.Fetch(set, &imap.FetchOptions{UID: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	}); err != nil {
		return nil, c.imapErr(ctx, "fetch", err)
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].UID < msgs[j].UID })
	for _, m := range msgs {
		if m.RFC822Size > MaxReadMessage {
			return nil, fmt.Errorf("%s: message %d of folder %q is %d MB, more than the %d MB mail.read takes", c.who(), m.UID, folder, m.RFC822Size>>20, MaxReadMessage>>20)
		}
		row, err := messageRow(m.FindBodySection(section), uint32(m.UID), m.InternalDate, saveTo)
		if err != nil {
			return nil, fmt.Errorf("%s: message %d of folder %q: %w", c.who(), m.UID, folder, err)
		}
		rows = append(rows, row)
	}
	if markSeen {
		if err := c.bounded(ctx, nc, func() error {
			return cl.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
		}); err != nil {
			return nil, c.imapErr(ctx, "marking the messages seen", err)
		}
	}
	if err := c.bounded(ctx, nc, func() error { return cl.Logout().Wait() }); err != nil {
		return nil, c.imapErr(ctx, "logout", err)
	}
	return rows, nil
}

// errNoAnswer is a step that took longer than the timeout.
var errNoAnswer = errors.New("no answer")

// bounded runs one IMAP exchange; past the timeout it closes the
// connection and says so.
func (c *conn) bounded(ctx context.Context, nc io.Closer, f func() error) error {
	timer := time.AfterFunc(c.timeout, func() { nc.Close() })
	err := f()
	if !timer.Stop() && ctx.Err() == nil {
		return fmt.Errorf("%w within %s", errNoAnswer, c.timeout)
	}
	return err
}

func charsetReader(cs string, input io.Reader) (io.Reader, error) { return charset.Reader(cs, input) }

// messageRow takes a raw message apart into a table row; with saveTo, it
// writes the attachments there.
func messageRow(raw []byte, uid uint32, internal time.Time, saveTo string) (map[string]any, error) {
	row := map[string]any{"uid": float64(uid), "from": "", "to": "", "cc": "", "subject": "", "date": "",
		"text": "", "html": "", "attachments": []any{}, "files": []any{}}
	if !internal.IsZero() {
		row["date"] = internal.UTC().Format(time.RFC3339)
	}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && r == nil {
		return nil, fmt.Errorf("not a mail message: %v", err)
	}
	defer r.Close()
	h := r.Header
	for _, k := range []string{"From", "To", "Cc"} {
		if l, err := h.AddressList(k); err == nil && len(l) > 0 {
			s := make([]string, len(l))
			for i, a := range l {
				s[i] = a.Address
				if a.Name != "" {
					s[i] = a.Name + " <" + a.Address + ">"
				}
			}
			row[strings.ToLower(k)] = strings.Join(s, ", ")
		} else {
			row[strings.ToLower(k)] = h.Get(k)
		}
	}
	row["subject"], _ = h.Subject()
	if d, err := h.Date(); err == nil && !d.IsZero() {
		row["date"] = d.Format(time.RFC3339)
	}
	var names, files []any
	used := map[string]bool{}
	for i := 0; ; i++ {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A damaged part ends the walk; what was read is kept.
			break
		}
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := ph.ContentType()
			b, err := io.ReadAll(io.LimitReader(p.Body, MaxReadMessage))
			if err != nil {
				continue
			}
			switch {
			case ct == "text/html" && row["html"] == "":
				row["html"] = string(b)
			case (ct == "text/plain" || ct == "") && row["text"] == "":
				row["text"] = string(b)
			}
		case *mail.AttachmentHeader:
			name, _ := ph.Filename()
			name = safeName(name, i)
			names = append(names, name)
			if saveTo == "" {
				continue
			}
			file := fmt.Sprintf("%d_%s", uid, name)
			for n := 2; used[file]; n++ {
				file = fmt.Sprintf("%d_%d_%s", uid, n, name)
			}
			used[file] = true
			path := filepath.Join(saveTo, file)
			if err := saveBody(path, p.Body); err != nil {
				return nil, fmt.Errorf("save attachment %q: %w", name, err)
			}
			files = append(files, path)
		}
	}
	if names != nil {
		row["attachments"] = names
	}
	if files != nil {
		row["files"] = files
	}
	return row, nil
}

func saveBody(path string, r io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(r, MaxReadMessage))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// safeName makes an attachment's name a plain file name: its base name
// without control characters or separators; "attachment-N" when nothing is
// left.
func safeName(name string, i int) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = name[strings.LastIndexByte(name, '/')+1:]
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`<>:"|?*`, r) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return fmt.Sprintf("attachment-%d", i+1)
	}
	if len(name) > 200 {
		ext := filepath.Ext(name)
		if len(ext) > 20 {
			ext = ""
		}
		name = strings.ToValidUTF8(name[:200-len(ext)], "") + ext
	}
	return name
}
