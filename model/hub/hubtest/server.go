// Package hubtest runs a fake Hugging Face file server on the loopback
// interface for tests: HEAD and GET on /REPO/resolve/main/FILE, with
// model.safetensors served as an LFS file (a redirect carrying
// X-Linked-Etag and X-Linked-Size) and the others as regular files (ETag =
// git blob sha1). Faults: dropped connections and a wrong checksum.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is the fake hub. Set the fault fields before requests arrive or
// under Lock.
type Server struct {
	*httptest.Server
	Repo  string            // e.g. openai-community/gpt2
	Files map[string][]byte // file name -> content

	sync.Mutex
	// DropAfter and Drops: the next Drops GETs of an LFS file send
	// DropAfter bytes and then drop the connection.
	DropAfter int
	Drops     int
	// BadSHA makes the server announce a wrong sha256 for LFS files.
	BadSHA bool
	// Renamed, when set, is an old name of Repo: its URLs answer with a
	// redirect to Repo's, as Hugging Face does for renamed repositories.
	Renamed string
	log     []string
}

// IsLFS reports whether a file is served as an LFS file.
func IsLFS(name string) bool { return strings.HasSuffix(name, ".safetensors") }

// New starts the server on 127.0.0.1; Close it when done.
func New(repo string, files map[string][]byte) *Server {
	s := &Server{Repo: repo, Files: files}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s.Server.Listener = l
	s.Start()
	return s
}

// Requests returns "METHOD PATH RANGE" for each request whose method is
// method and whose path contains part.
func (s *Server) Requests(method, part string) []string {
	s.Lock()
	defer s.Unlock()
	var out []string
	for _, l := range s.log {
		if strings.HasPrefix(l, method+" ") && strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.Lock()
	s.log = append(s.log, r.Method+" "+r.URL.Path+" "+r.Header.Get("Range"))
	s.Unlock()
	if name, ok := strings.CutPrefix(r.URL.Path, "/cdn/"); ok {
		s.serveLFS(w, r, name)
		return
	}
	s.Lock()
	renamed := s.Renamed
	s.Unlock()
	if renamed != "" {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/"+renamed+"/"); ok {
			http.Redirect(w, r, "/"+s.Repo+"/"+rest, http.StatusTemporaryRedirect)
			return
		}
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/"+s.Repo+"/resolve/main/")
	data, found := s.Files[name]
	if !ok || !found {
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
	if IsLFS(name) {
		sum := sha256.Sum256(data)
		etag := hex.EncodeToString(sum[:])
		s.Lock()
		if s.BadSHA {
			etag = strings.Repeat("0", 64)
		}
		s.Unlock()
		w.Header().Set("X-Linked-Etag", `"`+etag+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(data)))
		w.Header().Set("ETag", `"`+etag+`"`)
		http.Redirect(w, r, "/cdn/"+name, http.StatusFound)
		return
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(h.Sum(nil))+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

func (s *Server) serveLFS(w http.ResponseWriter, r *http.Request, name string) {
	data, ok := s.Files[name]
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.Lock()
	drop := r.Method == http.MethodGet && s.Drops > 0
	after := s.DropAfter
	if drop {
		s.Drops--
	}
	s.Unlock()
	if !drop {
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
		return
	}
	start := 0
	fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start)
	if start > len(data) {
		start = len(data)
	}
	rest := data[start:]
	w.Header().Set("Content-Length", fmt.Sprint(len(rest)))
	if start > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	w.Write(rest[:min(after, len(rest))])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // the connection drops mid-file
}
