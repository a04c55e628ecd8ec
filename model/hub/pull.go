package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrChecksum means a downloaded file did not match what the server says
// it should be; the file is deleted.
var ErrChecksum = errors.New("checksum mismatch")

// Progress is told how far a file's download is: bytes done and the total
// (-1 when unknown). done == total marks the end of a file.
type Progress func(file string, done, total int64)

// Puller downloads models.
type Puller struct {
	Endpoint string       // default Endpoint()
	Dir      string       // models folder; default ModelsDir()
	Client   *http.Client // default: a client with connect and header timeouts
	Progress Progress
	// Attempts is how many times a download is tried without progress
	// before giving up; default 5.
	Attempts int
	Backoff  time.Duration // default 1s, doubling
	// Token is sent to the endpoint as a bearer token; default $HF_TOKEN.
	Token string
}

func (p *Puller) defaults() error {
	if p.Endpoint == "" {
		p.Endpoint = Endpoint()
	}
	p.Endpoint = strings.TrimRight(p.Endpoint, "/")
	if p.Dir == "" {
		d, err := ModelsDir()
		if err != nil {
			return err
		}
		p.Dir = d
	}
	if p.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 60 * time.Second
		p.Client = &http.Client{Transport: tr}
	}
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.Backoff <= 0 {
		p.Backoff = time.Second
	}
	if p.Token == "" {
		p.Token = os.Getenv("HF_TOKEN")
	}
	return nil
}

// remote is what the server says about a file before it is downloaded.
type remote struct {
	url   string
	size  int64  // -1 unknown
	check string // "sha256", "git-sha1" or "size"
	want  string // hex digest for check
	rev   string
}

var (
	hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

func cleanETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.ToLower(strings.Trim(s, `"`))
}

// head asks for a file's size and hash without following the redirect:
// Hugging Face answers an LFS file with X-Linked-Etag (its sha256) and
// X-Linked-Size, and a regular file with ETag (its git blob sha1).
func (p *Puller) head(ctx context.Context, repo, file string) (*remote, error) {
	u := fmt.Sprintf("%s/%s/resolve/main/%s", p.Endpoint, repo, file)
	c := *p.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var resp *http.Response
	for hops := 0; ; hops++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
		if err != nil {
			return nil, err
		}
		p.auth(req)
		resp, err = c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reach %s: %w; check the network, or set DESKBOT_HF_ENDPOINT to a mirror", p.Endpoint, err)
		}
		resp.Body.Close()
		// A renamed repository answers with a redirect on the same host;
		// follow it. An LFS file's redirect to its storage host carries
		// X-Linked-Etag and is where the metadata is read.
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || loc == "" || resp.Header.Get("X-Linked-Etag") != "" || hops >= 5 {
			break
		}
		next, err := resp.Request.URL.Parse(loc)
		if err != nil || next.Host != resp.Request.URL.Host {
			break
		}
		u = next.String()
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%s: access denied (%s); for a gated model set HF_TOKEN", u, resp.Status)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: not found (%s); the repository has no %s", u, resp.Status, file)
	case resp.StatusCode >= 400:
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	r := &remote{url: u, size: -1, check: "size", rev: resp.Header.Get("X-Repo-Commit")}
	if s := resp.Header.Get("X-Linked-Size"); s != "" {
		r.size, _ = strconv.ParseInt(s, 10, 64)
	} else if resp.StatusCode < 300 && resp.ContentLength >= 0 {
		r.size = resp.ContentLength
	}
	if e := cleanETag(resp.Header.Get("X-Linked-Etag")); hex64.MatchString(e) {
		r.check, r.want = "sha256", e
	} else if e := cleanETag(resp.Header.Get("ETag")); hex64.MatchString(e) {
		r.check, r.want = "sha256", e
	} else if hex40.MatchString(e) {
		r.check, r.want = "git-sha1", e
	}
	return r, nil
}

func (p *Puller) auth(req *http.Request) {
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
}

// Pull downloads a known model into the models folder and returns its
// folder. Files already there and verified are kept; an interrupted
// download resumes from its .part file.
func (p *Puller) Pull(ctx context.Context, name string) (string, error) {
	k, ok := Lookup(name)
	if !ok {
		return "", fmt.Errorf("unknown model %q; known: %s (or import a folder with: deskbot model import DIR)", name, strings.Join(KnownNames(), ", "))
	}
	if err := p.defaults(); err != nil {
		return "", err
	}
	dir := filepath.Join(p.Dir, k.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pull %s: %w", name, err)
	}
	old, _ := readManifest(dir)
	m := &Manifest{Name: k.Name, Source: "huggingface:" + k.Repo}
	for _, f := range Files {
		r, err := p.head(ctx, k.Repo, f)
		if err != nil {
			return "", fmt.Errorf("pull %s: %w", name, err)
		}
		if m.Revision == "" {
			m.Revision = r.rev
		}
		if fi, ok := upToDate(old, dir, f, r); ok {
			if p.Progress != nil {
				p.Progress(f, fi.Size, fi.Size)
			}
			m.Files = append(m.Files, fi)
			continue
		}
		// A manifest must not vouch for a file that is being replaced.
		os.Remove(filepath.Join(dir, ManifestName))
		fi, err := p.download(ctx, r, dir, f)
		if err != nil {
			return "", fmt.Errorf("pull %s: %w", name, err)
		}
		m.Files = append(m.Files, fi)
	}
	m.Installed = time.Now().UTC()
	if err := writeManifest(dir, m); err != nil {
		return "", fmt.Errorf("pull %s: %w", name, err)
	}
	return dir, nil
}

func upToDate(old *Manifest, dir, f string, r *remote) (FileInfo, bool) {
	if old == nil {
		return FileInfo{}, false
	}
	for _, fi := range old.Files {
		if fi.Name != f {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() != fi.Size || r.size >= 0 && r.size != fi.Size {
			return FileInfo{}, false
		}
		if r.check == "sha256" && fi.SHA256 != r.want {
			return FileInfo{}, false
		}
		return fi, r.check != "size" || r.size >= 0
	}
	return FileInfo{}, false
}

// download fetches one file into dir/f.part, resuming after dropped
// connections, verifies it and renames it into place.
func (p *Puller) download(ctx context.Context, r *remote, dir, f string) (FileInfo, error) {
	part := filepath.Join(dir, f+".part")
	for fresh := 0; ; fresh++ {
		resumed, err := p.fetch(ctx, r, part, f)
		if err != nil {
			return FileInfo{}, err
		}
		fi, err := verify(part, f, r)
		if err == nil {
			if err := os.Rename(part, filepath.Join(dir, f)); err != nil {
				return FileInfo{}, fmt.Errorf("%s: %w", f, err)
			}
			return fi, nil
		}
		os.Remove(part)
		if fresh > 0 || !resumed {
			return FileInfo{}, err
		}
		// A resumed file may mix two versions of the file: try once
		// more from scratch.
	}
}

func verify(part, f string, r *remote) (FileInfo, error) {
	fh, err := os.Open(part)
	if err != nil {
		return FileInfo{}, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return FileInfo{}, err
	}
	size := st.Size()
	if r.size >= 0 && size != r.size {
		return FileInfo{}, fmt.Errorf("%s: %w: got %d bytes, the server said %d; the download was deleted, run the pull again", f, ErrChecksum, size, r.size)
	}
	s256 := sha256.New()
	var gsha hash.Hash
	w := io.Writer(s256)
	if r.check == "git-sha1" {
		gsha = sha1.New()
		fmt.Fprintf(gsha, "blob %d\x00", size)
		w = io.MultiWriter(s256, gsha)
	}
	if _, err := io.Copy(w, fh); err != nil {
		return FileInfo{}, fmt.Errorf("%s: %w", f, err)
	}
	fi := FileInfo{Name: f, Size: size, SHA256: hex.EncodeToString(s256.Sum(nil)), Check: r.check}
	got := fi.SHA256
	if gsha != nil {
		got = hex.EncodeToString(gsha.Sum(nil))
	}
	if r.check != "size" && got != r.want {
		return FileInfo{}, fmt.Errorf("%s from %s: %w: %s is %s, the server says %s; the download was deleted and not installed, run the pull again",
			f, r.url, ErrChecksum, r.check, got, r.want)
	}
	return fi, nil
}

// fetch brings part up to the full file, resuming with Range requests.
// resumed reports that some bytes came from an earlier try.
func (p *Puller) fetch(ctx context.Context, r *remote, part, f string) (resumed bool, err error) {
	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f, err)
	}
	defer out.Close()
	failures := 0
	var lastErr error
	for {
		have, err := out.Seek(0, io.SeekEnd)
		if err != nil {
			return resumed, fmt.Errorf("%s: %w", f, err)
		}
		if r.size >= 0 && have == r.size {
			return resumed || have > 0, nil
		}
		if r.size >= 0 && have > r.size {
			if err := out.Truncate(0); err != nil {
				return false, err
			}
			have = 0
		}
		resumed = resumed || have > 0
		n, done, err := p.get(ctx, r, out, have, f)
		if done {
			return resumed, nil
		}
		if ctx.Err() != nil {
			return resumed, fmt.Errorf("%s: %w (the partial download is kept; pull again to resume)", f, context.Cause(ctx))
		}
		var perm permanent
		if errors.As(err, &perm) {
			return resumed, fmt.Errorf("%s: %w", f, err)
		}
		if n > 0 {
			failures = 0
		}
		failures++
		lastErr = err
		if failures >= p.Attempts {
			return resumed, fmt.Errorf("%s: download failed %d times in a row, last: %w (the partial download is kept; pull again to resume)", f, failures, lastErr)
		}
		wait := p.Backoff << (failures - 1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resumed, fmt.Errorf("%s: %w (the partial download is kept; pull again to resume)", f, context.Cause(ctx))
		case <-t.C:
		}
	}
}

type permanent struct{ error }

func (e permanent) Unwrap() error { return e.error }

// get makes one GET from offset have and appends to out. done reports the
// whole file is there.
func (p *Puller) get(ctx context.Context, r *remote, out *os.File, have int64, f string) (n int64, done bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return 0, false, permanent{err}
	}
	p.auth(req)
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent:
		var start int64 = -1
		fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &start)
		if start != have {
			return 0, false, permanent{fmt.Errorf("server resumed at byte %d, asked for %d", start, have)}
		}
	case resp.StatusCode == http.StatusOK:
		if have > 0 { // no range support: start over
			if err := out.Truncate(0); err != nil {
				return 0, false, permanent{err}
			}
			if _, err := out.Seek(0, io.SeekStart); err != nil {
				return 0, false, permanent{err}
			}
			have = 0
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		if r.size < 0 {
			return 0, true, nil // we already have it all
		}
		out.Truncate(0)
		return 0, false, fmt.Errorf("server refused to resume (%s); starting over", resp.Status)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return 0, false, fmt.Errorf("%s", resp.Status)
	default:
		return 0, false, permanent{fmt.Errorf("GET %s: %s", r.url, resp.Status)}
	}
	total := r.size
	if total < 0 && resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	pw := &progressWriter{w: out, file: f, done: have, total: total, fn: p.Progress}
	pw.report(true)
	n, err = io.Copy(pw, resp.Body)
	pw.report(true)
	if err != nil {
		return n, false, fmt.Errorf("connection dropped after %d bytes: %w", have+n, err)
	}
	if total >= 0 && have+n < total {
		return n, false, fmt.Errorf("connection closed after %d of %d bytes", have+n, total)
	}
	return n, true, nil
}

type progressWriter struct {
	w           io.Writer
	file        string
	done, total int64
	last        time.Time
	fn          Progress
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.done += int64(n)
	pw.report(false)
	return n, err
}

func (pw *progressWriter) report(force bool) {
	if pw.fn == nil {
		return
	}
	if now := time.Now(); force || now.Sub(pw.last) >= 100*time.Millisecond {
		pw.last = now
		pw.fn(pw.file, pw.done, pw.total)
	}
}
