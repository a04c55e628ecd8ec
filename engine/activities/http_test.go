package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"deskbot/engine"
	"deskbot/engine/cred"
)

func TestHTTPRequestJSON(t *testing.T) {
	var got struct {
		method, query, ctype, auth, custom string
		body                               map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.query, got.ctype, got.custom = r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("X-Order")
		got.auth = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got.body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Request-Id", "r-1")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id": 42, "items": [{"name": "茶", "price": 2.5}], "paid": true, "note": null}`)
	}))
	defer srv.Close()
	store := credStore(t, cred.Credential{Name: "api", Secret: "token-abc-123456"})
	dir := t.TempDir()
	res, err := runWith(t, dir, "http.request", map[string]any{
		"method": "POST", "url": srv.URL + "/orders?src=bot", "query": map[string]any{"page": "1 + 1", "tag": `["a", "b c"]`},
		"headers": map[string]any{"X-Order": `"n-" + string(7)`}, "json": `{"name": "茶", "qty": 3}`,
		"credential": "api", "output": "r"}, store)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Vars["r"].(map[string]any)
	if r["status"] != 201.0 || r["ok"] != true || r["headers"].(map[string]any)["X-Request-Id"] != "r-1" || r["json_error"] != nil {
		t.Errorf("response %v", r)
	}
	body := r["body"].(map[string]any)
	if body["id"] != 42.0 || body["paid"] != true || body["items"].([]any)[0].(map[string]any)["name"] != "茶" {
		t.Errorf("body %v", body)
	}
	if got.method != "POST" || got.query != "page=2&src=bot&tag=a&tag=b+c" || got.ctype != "application/json" || got.custom != "n-7" ||
		got.auth != "Bearer token-abc-123456" || got.body["name"] != "茶" || got.body["qty"] != 3.0 {
		t.Errorf("server got %+v", got)
	}
}

func TestHTTPRequestBasicTextAndRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%v %s %s %s %s", ok, u, p, r.Header.Get("Content-Type"), b)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `[1, 2]`) })
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"broken": `)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	store := credStore(t, cred.Credential{Name: "site", User: "ann", Secret: "pw-basic-0001"})
	dir := t.TempDir()
	res, err := runWith(t, dir, "http.request", map[string]any{"method": "PUT", "url": srv.URL + "/text", "body": "hello {{ 6 * 7 }}",
		"credential": "site", "auth": "basic", "output": "r"}, store)
	if err != nil {
		t.Fatal(err)
	}
	if b := res.Vars["r"].(map[string]any)["body"]; b != "true ann pw-basic-0001 text/plain; charset=utf-8 hello 42" {
		t.Errorf("text answer %q", b)
	}
	res, err = runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/old", "output": "r"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Vars["r"].(map[string]any)
	if r["url"] != srv.URL+"/new" || fmt.Sprint(r["body"]) != "[1 2]" {
		t.Errorf("redirect: %v", r)
	}
	// Not followed: the 302 itself, an error with fail_on_status.
	res, err = runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/old", "follow_redirects": false, "fail_on_status": false, "output": "r"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Vars["r"].(map[string]any); r["status"] != 302.0 || r["headers"].(map[string]any)["Location"] != "/new" || r["ok"] != false {
		t.Errorf("not followed: %v", r)
	}
	if _, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/old", "follow_redirects": false, "output": "r"}, nil); err == nil || !strings.Contains(err.Error(), "HTTP 302") {
		t.Errorf("302 with fail_on_status: %v", err)
	}
	// Invalid JSON stays text, and says why.
	res, err = runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/bad", "output": "r"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Vars["r"].(map[string]any); r["body"] != `{"broken": ` || !strings.Contains(fmt.Sprint(r["json_error"]), "not valid JSON") {
		t.Errorf("invalid JSON: %v", r)
	}
}

func TestHTTPRequestFaults(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error": "database down"}`, http.StatusInternalServerError)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 5000)))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	dir := t.TempDir()

	_, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/slow", "timeout": "200ms"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no answer within the timeout of 200ms") || !strings.Contains(err.Error(), "/slow") {
		t.Errorf("slow server: %v", err)
	}
	_, err = runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/fail"}, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500 Internal Server Error") || !strings.Contains(err.Error(), "database down") || !strings.Contains(err.Error(), `node "n"`) {
		t.Errorf("500: %v", err)
	}
	res, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/fail", "fail_on_status": false, "output": "r"}, nil)
	if err != nil || res.Vars["r"].(map[string]any)["status"] != 500.0 {
		t.Errorf("500 without fail_on_status: %v", err)
	}
	_, err = runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/huge", "max_bytes": 4096.0}, nil)
	if err == nil || !strings.Contains(err.Error(), "larger than max_bytes (4096 bytes)") {
		t.Errorf("huge: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err = runWith(t, dir, "http.request", map[string]any{"url": "http://" + addr + "/x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), addr) {
		t.Errorf("refused: %v", err)
	}
	for _, u := range []string{"ftp://x/y", "no scheme", "http://"} {
		if _, err := runWith(t, dir, "http.request", map[string]any{"url": u}, nil); err == nil || !strings.Contains(err.Error(), "url") {
			t.Errorf("url %q: %v", u, err)
		}
	}
	store := credStore(t, cred.Credential{Name: "tok", Secret: "only-a-token-1"})
	if _, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/fail", "credential": "tok", "auth": "basic"}, store); err == nil || !strings.Contains(err.Error(), "no user name") {
		t.Errorf("basic without a user: %v", err)
	}
	if _, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL + "/fail", "credential": "nope"}, store); err == nil || !strings.Contains(err.Error(), "deskbot cred set nope") {
		t.Errorf("unknown credential: %v", err)
	}
	if _, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL, "json": "1", "body": "x"}, nil); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("json and body: %v", err)
	}
	if _, err := runWith(t, dir, "http.request", map[string]any{"url": srv.URL, "headers": map[string]any{"Bad Name": "1"}}, nil); err == nil || !strings.Contains(err.Error(), "header name") {
		t.Errorf("header name: %v", err)
	}
}

// A 500 with an error port connected: the flow goes on there, with the
// response in its variable and the error in the node's error variable.
func TestHTTPRequestErrorPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"retry_after": 30}`)
	}))
	defer srv.Close()
	f := engine.NewFlow("t")
	f.Nodes = append(f.Nodes,
		&engine.Node{ID: "call", Type: "http.request", Params: map[string]any{"url": srv.URL, "output": "r"}, ErrorVar: "why"},
		&engine.Node{ID: "handle", Type: "control.set_variable", Params: map[string]any{"variable": "wait", "value": "r.body.retry_after"}})
	f.Edges = []engine.Edge{{From: "start", Port: "next", To: "call"}, {From: "call", Port: "error", To: "handle"}}
	if ps := engine.Lint(f, nil, ""); engine.HasErrors(ps) {
		t.Fatal(ps)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := engine.Run(ctx, f, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vars["wait"] != 30.0 || !strings.Contains(fmt.Sprint(res.Vars["why"]), "HTTP 503") {
		t.Errorf("vars: %v", res.Vars)
	}
}
