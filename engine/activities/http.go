package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"deskbot/engine"
	"deskbot/engine/cred"
	"deskbot/model"
)

func init() {
	engine.Register(engine.Spec{
		Type: "http.request", Title: "HTTP request", Category: "Web", SideEffects: true, Icon: "download",
		Summary: "Calls a web API: method, URL, query, headers, a JSON or text body; the response (JSON parsed) into a variable.",
		Doc: "The variable gets an object: `status` (a number), `ok` (status 200-299), `headers` (name: value), `url` " +
			"(after redirects) and `body`: the parsed JSON when the answer is JSON, else the text. A JSON answer that " +
			"does not parse stays text and `json_error` says why. With `fail_on_status` (the default) a status " +
			"outside 200-299 is an error: the node follows its error port when one is connected (the variable " +
			"is set first), else the run fails. The password or token comes from a named credential: " +
			"`basic` sends its user name and password, `bearer` its secret as a token.",
		Fields: []engine.Field{
			{Name: "method", Title: "Method", Kind: engine.KindSelect, Options: []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, Default: "GET"},
			{Name: "url", Title: "URL", Kind: engine.KindText, Required: true, Help: "http:// or https://"},
			{Name: "query", Title: "Query", Kind: engine.KindMap, Help: "Name: expression; added to the URL's query."},
			{Name: "headers", Title: "Headers", Kind: engine.KindMap, Help: "Name: expression, e.g. Accept: \"application/json\""},
			{Name: "json", Title: "JSON body", Kind: engine.KindExpr, Help: "An expression whose value is sent as JSON, e.g. {\"name\": name, \"total\": total}"},
			{Name: "body", Title: "Text body", Kind: engine.KindMulti, Help: "Sent when there is no JSON body."},
			{Name: "content_type", Title: "Content type", Kind: engine.KindString, Default: "text/plain; charset=utf-8", Advanced: true, Help: "Of the text body."},
			{Name: "credential", Title: "Credential", Kind: engine.KindString, Help: "Name of a stored credential; see `deskbot cred`."},
			{Name: "auth", Title: "Authentication", Kind: engine.KindSelect, Options: []string{"basic", "bearer"}, Default: "bearer", Help: "How the credential is sent."},
			{Name: "timeout", Title: "Timeout", Kind: engine.KindDur, Default: "30s"},
			{Name: "fail_on_status", Title: "Fail on error status", Kind: engine.KindBool, Default: true, Help: "A status outside 200-299 is an error."},
			{Name: "follow_redirects", Title: "Follow redirects", Kind: engine.KindBool, Default: true, Advanced: true},
			{Name: "max_bytes", Title: "Largest answer (bytes)", Kind: engine.KindInt, Default: float64(10 << 20), Advanced: true},
			{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "response"},
		},
		New: newHTTPRequest,
	})
}

type httpRequest struct {
	method, cred, auth, ctype, output string
	url, body, timeout                *engine.Template
	query, headers                    []engine.NamedExpr
	json                              *engine.Expr
	hasBody, fail, follow             bool
	max                               int
}

func newHTTPRequest(p *engine.Params) (engine.Activity, error) {
	a := &httpRequest{
		method: p.Select("method"), cred: p.String("credential"), auth: p.Select("auth"), ctype: p.String("content_type"),
		output: p.Var("output"), url: p.Template("url"), body: p.Template("body"), timeout: p.Template("timeout"),
		query: p.Map("query"), headers: p.Map("headers"), json: p.Expr("json"), hasBody: p.Has("body"),
		fail: p.Bool("fail_on_status"), follow: p.Bool("follow_redirects"), max: p.Int("max_bytes"),
	}
	if a.max <= 0 || a.max > engine.MaxTextBytes {
		p.Fail("max_bytes", "want 1 to %d, got %d", engine.MaxTextBytes, a.max)
	}
	for _, h := range a.headers {
		if !validHeaderName(h.Name) {
			p.Fail("headers", "%q is not a header name", h.Name)
		}
	}
	if a.json != nil && a.hasBody {
		p.Fail("body", "set either the JSON body or the text body, not both")
	}
	if a.cred != "" {
		if err := cred.ValidName(a.cred); err != nil {
			p.Fail("credential", "%v", err)
		}
	}
	return a, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// httpStatusError is a status outside 200-299 with fail_on_status.
type httpStatusError struct {
	method, url string
	status      int
	text        string
	snippet     string
}

func (e *httpStatusError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d %s", e.method, e.url, e.status, e.text)
	if e.snippet != "" {
		s += ": " + e.snippet
	}
	return s
}

func (a *httpRequest) Run(ctx context.Context, c *engine.Call) (string, error) {
	raw, err := c.Text(a.url)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url: %q is not an http:// or https:// address", raw)
	}
	if len(a.query) > 0 {
		q := u.Query()
		for _, ne := range a.query {
			v, err := c.Eval(ne.Expr)
			if err != nil {
				return "", fmt.Errorf("query %s: %w", ne.Name, err)
			}
			if l, ok := v.([]any); ok {
				for _, x := range l {
					q.Add(ne.Name, engine.ToString(x))
				}
			} else {
				q.Set(ne.Name, engine.ToString(v))
			}
		}
		u.RawQuery = q.Encode()
	}
	d := 30 * time.Second
	if ts, err := c.Text(a.timeout); err != nil {
		return "", fmt.Errorf("timeout: %w", err)
	} else if ts != "" {
		if d, err = time.ParseDuration(ts); err != nil || d <= 0 {
			return "", fmt.Errorf("timeout: want a duration such as 30s, got %q", ts)
		}
	}
	var body io.Reader
	ctype := ""
	if a.json != nil {
		v, err := c.Eval(a.json)
		if err != nil {
			return "", fmt.Errorf("json: %w", err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("json: the value cannot be sent as JSON: %v", err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	} else if a.hasBody {
		s, err := c.Text(a.body)
		if err != nil {
			return "", fmt.Errorf("body: %w", err)
		}
		body, ctype = strings.NewReader(s), a.ctype
	}
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, a.method, u.String(), body)
	if err != nil {
		return "", fmt.Errorf("url: %v", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", "Deskbot")
	for _, h := range a.headers {
		v, err := c.Eval(h.Expr)
		if err != nil {
			return "", fmt.Errorf("headers %s: %w", h.Name, err)
		}
		s := engine.ToString(v)
		if strings.ContainsAny(s, "\r\n") {
			return "", fmt.Errorf("headers %s: the value holds a line break", h.Name)
		}
		req.Header.Set(h.Name, s)
	}
	secret := ""
	if a.cred != "" {
		cr, err := cred.Lookup(c, a.cred)
		if err != nil {
			return "", fmt.Errorf("credential: %w", err)
		}
		secret = cr.Secret
		if a.auth == "basic" {
			if cr.User == "" {
				return "", fmt.Errorf("credential: %q has no user name for basic authentication; set it with `deskbot cred set %s --user NAME`", a.cred, a.cred)
			}
			req.SetBasicAuth(cr.User, cr.Secret)
		} else {
			req.Header.Set("Authorization", "Bearer "+cr.Secret)
		}
	}
	client := &http.Client{}
	if !a.follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	shown := redactURL(u)
	resp, err := client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return "", fmt.Errorf("%s %s: stopped: %w", a.method, shown, context.Cause(ctx))
		case errors.Is(err, context.DeadlineExceeded) || rctx.Err() != nil:
			return "", fmt.Errorf("%s %s: no answer within the timeout of %s", a.method, shown, d)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", cred.Scrub(fmt.Errorf("%s %s: %v", a.method, shown, cleanNetErr(err)), secret)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(a.max)+1))
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			return "", fmt.Errorf("%s %s: the answer did not arrive within the timeout of %s", a.method, shown, d)
		}
		return "", fmt.Errorf("%s %s: reading the answer: %v", a.method, shown, err)
	}
	if len(b) > a.max {
		return "", fmt.Errorf("%s %s: the answer is larger than max_bytes (%d bytes)", a.method, shown, a.max)
	}
	out := responseValue(resp, b)
	c.Output("status", float64(resp.StatusCode))
	c.Output("bytes", len(b))
	if err := c.Set(a.output, out); err != nil {
		return "", err
	}
	if a.fail && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		snip := strings.TrimSpace(strings.ToValidUTF8(string(b[:min(len(b), 200)]), "?"))
		return "", cred.Scrub(&httpStatusError{method: a.method, url: shown, status: resp.StatusCode, text: http.StatusText(resp.StatusCode), snippet: snip}, secret)
	}
	return "", nil
}

// redactURL hides a password in the URL's user info.
func redactURL(u *url.URL) string { return u.Redacted() }

// responseValue is the variable's value: status, ok, headers, url, body.
func responseValue(resp *http.Response, b []byte) map[string]any {
	headers := map[string]any{}
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		headers[k] = strings.Join(resp.Header[k], ", ")
	}
	out := map[string]any{
		"status": float64(resp.StatusCode), "ok": resp.StatusCode >= 200 && resp.StatusCode <= 299,
		"headers": headers, "url": redactURL(resp.Request.URL),
	}
	body, jerr := parseBody(resp.Header.Get("Content-Type"), b)
	out["body"] = body
	if jerr != nil {
		out["json_error"] = jerr.Error()
	}
	return out
}

// parseBody parses JSON answers (by content type, or text that starts as
// JSON); anything else, and JSON that does not parse, is text.
func parseBody(ctype string, b []byte) (any, error) {
	mt, _, _ := mime.ParseMediaType(ctype)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	t := bytes.TrimSpace(b)
	if !isJSON && (mt == "" || mt == "text/plain") && len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		isJSON = json.Valid(t)
	}
	text := model.ValidText(b)
	if !isJSON || len(t) == 0 {
		return text, nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(t))
	if err := d.Decode(&v); err != nil {
		return text, fmt.Errorf("the answer is not valid JSON: %v", err)
	}
	// (Decoder.More reports false before a stray "]" or "}", so the rest is
	// looked at itself.)
	if len(bytes.TrimSpace(t[d.InputOffset():])) > 0 {
		return text, errors.New("the answer is not valid JSON: more after the first value")
	}
	if err := engine.CheckSize(v); err != nil {
		return text, fmt.Errorf("the JSON answer is too deep or large: %v", err)
	}
	return v, nil
}
