package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	goai "github.com/sashabaranov/go-openai"

	"deskbot/engine/redact"
	"deskbot/model"
)

// Errors a generation can fail with; test with errors.Is. The messages
// that wrap them say what to fix.
var (
	ErrUnauthorized  = errors.New("the API key was rejected")
	ErrModelNotFound = errors.New("unknown model")
	ErrUnreachable   = errors.New("cannot reach the server")
	ErrTimeout       = errors.New("timed out")
	ErrRateLimited   = errors.New("rate limited")
	ErrServer        = errors.New("server error")
	ErrRejected      = errors.New("request rejected")
	ErrStreamCut     = errors.New("the stream was cut off")
	ErrUnsupported   = errors.New("not supported by API models")
)

// Options tune the client; zero values take the defaults.
type Options struct {
	// Model, when set, replaces the profile's model name.
	Model            string
	ConnectTimeout   time.Duration // TCP/TLS connect; default 10s
	FirstByteTimeout time.Duration // until response headers; default 60s
	IdleTimeout      time.Duration // between streamed chunks; default 60s
	Timeout          time.Duration // whole generation; default 5m
	MaxRetries       int           // on 429/5xx; default 4; -1 means none
	Backoff          time.Duration // first backoff; default 500ms
	MaxRetryWait     time.Duration // longest single wait; default 60s
	// Concurrency is the most requests sent at once (GenerateBatch, or
	// Generate called from several goroutines); 0 takes the profile's,
	// else DefaultConcurrency.
	Concurrency int
	// Transport replaces the HTTP transport (tests); the timeouts above
	// that belong to the transport then do not apply.
	Transport http.RoundTripper
	// Notify is told about each retry (for the run log).
	Notify func(attempt int, wait time.Duration, why string)
}

func (o *Options) defaults(p Profile) {
	set := func(d *time.Duration, prof Duration, def time.Duration) {
		if *d == 0 {
			*d = time.Duration(prof)
		}
		if *d == 0 {
			*d = def
		}
	}
	set(&o.ConnectTimeout, p.ConnectTimeout, 10*time.Second)
	set(&o.FirstByteTimeout, p.FirstByteTimeout, 60*time.Second)
	set(&o.IdleTimeout, p.IdleTimeout, 60*time.Second)
	set(&o.Timeout, p.Timeout, 5*time.Minute)
	set(&o.Backoff, 0, 500*time.Millisecond)
	set(&o.MaxRetryWait, 0, 60*time.Second)
	if o.MaxRetries == 0 {
		o.MaxRetries = 4
		if p.MaxRetries != nil {
			o.MaxRetries = *p.MaxRetries
		}
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.Concurrency <= 0 {
		o.Concurrency = p.Concurrency
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	o.Concurrency = min(o.Concurrency, MaxConcurrency)
}

// Client is a model.Generator over an OpenAI-compatible chat API.
type Client struct {
	prof      Profile
	keySource string
	opts      Options
	api       *goai.Client
	http      *http.Client
	gate      *gate
}

var _ model.BatchGenerator = (*Client)(nil)

// New makes a client for a profile with the given key ("" for servers that
// need none). keySource says where the key came from, for error messages.
func New(p Profile, key, keySource string, o Options) (*Client, error) {
	if o.Model != "" {
		p.Model = o.Model
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o.defaults(p)
	// The key is masked wherever it shows up from now on: an error that
	// echoes it, a log line, the history.
	redact.Add(key)
	if o.Notify != nil {
		notify := o.Notify
		o.Notify = func(attempt int, wait time.Duration, why string) { notify(attempt, wait, redact.String(why)) }
	}
	base := o.Transport
	if base == nil {
		base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   o.ConnectTimeout,
			ResponseHeaderTimeout: o.FirstByteTimeout,
			MaxIdleConns:          max(4, o.Concurrency),
			MaxIdleConnsPerHost:   max(4, o.Concurrency),
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	g := newGate(o.Concurrency)
	hc := &http.Client{Transport: &retryTransport{gate: g, base: base, max: o.MaxRetries, backoff: o.Backoff,
		maxWait: o.MaxRetryWait, notify: o.Notify, sleep: sleepCtx}}
	var cfg goai.ClientConfig
	if p.Type == TypeAzure {
		cfg = goai.DefaultAzureConfig(key, p.BaseURL)
		if p.APIVersion != "" {
			cfg.APIVersion = p.APIVersion
		}
	} else {
		cfg = goai.DefaultConfig(key)
		cfg.BaseURL = strings.TrimRight(p.BaseURL, "/")
	}
	cfg.OrgID = p.Organization
	cfg.HTTPClient = hc
	if keySource == "" {
		keySource = "none"
		if key != "" {
			keySource = "given"
		}
	}
	return &Client{prof: p, keySource: keySource, opts: o, api: goai.NewClientWithConfig(cfg), http: hc, gate: g}, nil
}

// Open loads the named profile from the profiles file and its key from the
// environment or keyring.
func Open(name string, o Options) (*Client, error) {
	path, err := ProfilesPath()
	if err != nil {
		return nil, err
	}
	ps, err := LoadProfiles(path)
	if err != nil {
		return nil, err
	}
	p, ok := ps.Get(name)
	if !ok {
		known := strings.Join(ps.Names(), ", ")
		if known == "" {
			known = "none yet"
		}
		return nil, fmt.Errorf("no API profile %q (profiles: %s); add one with: deskbot model provider add %s --url URL --model NAME", name, known, name)
	}
	key, src := APIKey(name)
	return New(p, key, src, o)
}

// Profile returns the client's profile.
func (c *Client) Profile() Profile { return c.prof }

// Name says which model this is, e.g. "api:work/gpt-4o-mini".
func (c *Client) Name() string { return "api:" + c.prof.Name + "/" + c.prof.Model }

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

var (
	errIdle  = errors.New("idle")
	errTotal = errors.New("total")
)

// Generate sends the prompt as one user message and streams the answer.
// On failure after some text arrived, the partial Result comes back with
// the error. TopK and RepetitionPenalty have no OpenAI equivalent and are
// ignored. It waits for a free slot of the client's concurrency (and for
// a rate-limit pause to end) first.
func (c *Client) Generate(ctx context.Context, req model.Request, emit func(model.Token) error) (*model.Result, error) {
	if err := c.check(req); err != nil {
		return nil, err
	}
	t, err := c.gate.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	defer c.gate.release()
	return c.generate(context.WithValue(ctx, ticketKey{}, t), req, emit)
}

// GenerateBatch sends the requests concurrently, at most the client's
// concurrency at a time (lower for a while after a 429), in the order
// given. A failed request does not stop the others; cancelling ctx ends
// them all, and those not yet sent are not sent.
func (c *Client) GenerateBatch(ctx context.Context, reqs []model.Request, emit func(i int, t model.Token) error) ([]*model.Result, []error) {
	res := make([]*model.Result, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		if errs[i] = c.check(req); errs[i] != nil {
			continue
		}
		t, err := c.gate.acquire(ctx)
		if err != nil {
			for j := i; j < len(reqs); j++ {
				errs[j] = fmt.Errorf("%s: %w", c.Name(), err)
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.gate.release()
			var one func(model.Token) error
			if emit != nil {
				one = func(tok model.Token) error { return emit(i, tok) }
			}
			res[i], errs[i] = c.generate(context.WithValue(ctx, ticketKey{}, t), req, one)
		}()
	}
	wg.Wait()
	return res, errs
}

// check refuses what an API cannot do.
func (c *Client) check(req model.Request) error {
	if len(req.PromptIDs) > 0 {
		return fmt.Errorf("%s: token ids as prompt: %w; give text instead", c.Name(), ErrUnsupported)
	}
	if req.MaxTokens <= 0 {
		return fmt.Errorf("%s: max tokens %d (tokenize only): %w; use a local model", c.Name(), req.MaxTokens, ErrUnsupported)
	}
	return nil
}

// generate is Generate once a slot is held.
func (c *Client) generate(ctx context.Context, req model.Request, emit func(model.Token) error) (*model.Result, error) {
	start := time.Now()
	ctx, cancelTotal := context.WithTimeoutCause(ctx, c.opts.Timeout, errTotal)
	defer cancelTotal()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tries := 0
	ctx = context.WithValue(ctx, attemptsKey{}, &tries)

	creq := goai.ChatCompletionRequest{
		Model:         c.prof.Model,
		Messages:      []goai.ChatCompletionMessage{{Role: goai.ChatMessageRoleUser, Content: req.Prompt}},
		MaxTokens:     req.MaxTokens,
		Temperature:   float32(req.Temperature),
		Stop:          req.Stop,
		Stream:        true,
		StreamOptions: &goai.StreamOptions{IncludeUsage: true},
	}
	if req.Temperature <= 0 {
		// go-openai omits a zero temperature (and the server then uses its
		// default, 1); the smallest positive value is greedy everywhere.
		creq.Temperature = math.SmallestNonzeroFloat32
	}
	if req.TopP > 0 && req.TopP < 1 {
		creq.TopP = float32(req.TopP)
	}
	if req.Seed != 0 {
		s := int(req.Seed)
		creq.Seed = &s
	}
	res := &model.Result{}
	stream, err := c.api.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		res.Total = time.Since(start)
		return nil, redact.Error(c.explain(ctx, err, tries))
	}
	defer stream.Close()

	idle := time.AfterFunc(c.opts.IdleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	var text strings.Builder
	finish := ""
	chunks := 0
	for {
		chunk, err := stream.Recv()
		idle.Reset(c.opts.IdleTimeout)
		if errors.Is(err, io.EOF) {
			if finish == "" {
				err = io.ErrUnexpectedEOF // the stream ended without a finish reason
			} else {
				break
			}
		}
		if err != nil {
			res.Text = text.String()
			res.FinishReason = "error"
			res.Total = time.Since(start)
			if res.OutputTokens == 0 {
				res.OutputTokens = chunks
			}
			return res, redact.Error(c.cut(ctx, err, res))
		}
		if chunk.Usage != nil {
			res.PromptTokens = chunk.Usage.PromptTokens
			res.OutputTokens = chunk.Usage.CompletionTokens
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.FinishReason != "" {
				finish = string(ch.FinishReason)
			}
			if ch.Delta.Content == "" {
				continue
			}
			if chunks == 0 {
				res.FirstToken = time.Since(start)
			}
			chunks++
			text.WriteString(ch.Delta.Content)
			if emit != nil {
				if err := emit(model.Token{ID: -1, Text: ch.Delta.Content}); err != nil {
					res.Text, res.FinishReason, res.Total = text.String(), "cancelled", time.Since(start)
					if res.OutputTokens == 0 {
						res.OutputTokens = chunks
					}
					return res, err
				}
			}
		}
	}
	res.Text = text.String()
	res.Total = time.Since(start)
	if res.OutputTokens == 0 {
		res.OutputTokens = chunks // servers without usage: one chunk is about one token
	}
	res.FinishReason = finish
	return res, nil
}

// cut explains an error that happened mid-stream.
func (c *Client) cut(ctx context.Context, err error, res *model.Result) error {
	cause := context.Cause(ctx)
	n := len([]rune(res.Text))
	switch {
	case errors.Is(cause, errIdle):
		return fmt.Errorf("%s: %w: %w: no data from %s for %s after %d characters (idle timeout of profile %q); the partial text is kept",
			c.Name(), ErrStreamCut, ErrTimeout, c.prof.BaseURL, c.opts.IdleTimeout, n, c.prof.Name)
	case errors.Is(cause, errTotal):
		return fmt.Errorf("%s: %w: %w: the generation took longer than %s after %d characters (timeout of profile %q); the partial text is kept",
			c.Name(), ErrStreamCut, ErrTimeout, c.opts.Timeout, n, c.prof.Name)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: generation stopped after %d characters: %w", c.Name(), n, cause)
	}
	return fmt.Errorf("%s: %w: %s stopped sending after %d characters (%v); the partial text is kept",
		c.Name(), ErrStreamCut, c.prof.BaseURL, n, err)
}

// explain turns a failure to start the stream into an error that says
// what to fix.
func (c *Client) explain(ctx context.Context, err error, tries int) error {
	name, url := c.Name(), c.prof.BaseURL
	triesText := ""
	if tries > 1 {
		triesText = fmt.Sprintf(" after %d tries", tries)
	}
	if cause := context.Cause(ctx); ctx.Err() != nil {
		if errors.Is(cause, errTotal) {
			return fmt.Errorf("%s: %w: no answer from %s within %s%s (timeout of profile %q)", name, ErrTimeout, url, c.opts.Timeout, triesText, c.prof.Name)
		}
		return fmt.Errorf("%s: %w", name, cause)
	}
	status, msg := 0, ""
	var apiErr *goai.APIError
	var reqErr *goai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status, msg = apiErr.HTTPStatusCode, apiErr.Message
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
		msg = strings.TrimSpace(string(reqErr.Body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg == "" && reqErr.Err != nil {
			msg = reqErr.Err.Error()
		}
	}
	if status != 0 {
		detail := fmt.Sprintf("HTTP %d", status)
		if msg != "" {
			detail += ": " + msg
		}
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("%s: %w by %s (%s); the key came from %s: store the right one with `deskbot model provider key %s` or set %s",
				name, ErrUnauthorized, url, detail, c.keySource, c.prof.Name, EnvName(c.prof.Name))
		case status == http.StatusNotFound:
			return fmt.Errorf("%s: %w %q at %s (%s); check the model name of profile %q (`deskbot model provider list`) and that the base URL is the API root, e.g. ending in /v1",
				name, ErrModelNotFound, c.prof.Model, url, detail, c.prof.Name)
		case status == http.StatusTooManyRequests:
			return fmt.Errorf("%s: %w by %s%s (%s); wait a while, lower the request rate or raise the quota", name, ErrRateLimited, url, triesText, detail)
		case status >= 500:
			return fmt.Errorf("%s: %w at %s%s (%s); the server is failing, try again later", name, ErrServer, url, triesText, detail)
		default:
			return fmt.Errorf("%s: %w by %s (%s)", name, ErrRejected, url, detail)
		}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s: %w %s: unknown host %q; check the base URL of profile %q", name, ErrUnreachable, url, dnsErr.Name, c.prof.Name)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("%s: %w %s (%v); is the server running, and is the base URL of profile %q right?", name, ErrUnreachable, url, opErr.Err, c.prof.Name)
	case strings.Contains(err.Error(), "timeout awaiting response headers"):
		return fmt.Errorf("%s: %w: %s sent no answer within %s (first-byte timeout of profile %q)", name, ErrTimeout, url, c.opts.FirstByteTimeout, c.prof.Name)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s: %w: connecting to %s (%v); is the server reachable?", name, ErrTimeout, url, err)
	}
	return fmt.Errorf("%s: request to %s failed%s: %w", name, url, triesText, err)
}
