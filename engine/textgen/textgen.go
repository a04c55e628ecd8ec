// Package textgen is the text.generate activity: it fills a prompt
// template, asks a local GPT-2 model or an OpenAI-compatible API for text,
// stores the answer in a variable and records every generation.
//
// The app hands two services to a run: the model providers (WithProviders)
// and the generation log (WithLog), usually a *store.DB.
package textgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"deskbot/engine"
	"deskbot/engine/redact"
	"deskbot/model"
)

// Providers opens a generator by provider name: a local model name or
// folder, or "api:PROFILE".
type Providers interface {
	Open(ctx context.Context, provider string) (model.Generator, error)
}

// OpenFunc opens a generator; see Providers.
type OpenFunc func(ctx context.Context, provider string) (model.Generator, error)

// Cache is a Providers that opens each provider once and keeps it until
// Close: a run writing a letter per row loads its model only once.
type Cache struct {
	open OpenFunc
	mu   sync.Mutex
	gens map[string]*entry
}

type entry struct {
	once sync.Once
	gen  model.Generator
	err  error
}

// NewCache returns a Cache over open.
func NewCache(open OpenFunc) *Cache { return &Cache{open: open, gens: map[string]*entry{}} }

// Open returns the cached generator for provider, opening it the first
// time. A failed open is not cached.
func (c *Cache) Open(ctx context.Context, provider string) (model.Generator, error) {
	c.mu.Lock()
	e := c.gens[provider]
	if e == nil {
		e = &entry{}
		c.gens[provider] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.gen, e.err = c.open(ctx, provider) })
	if e.err != nil {
		c.mu.Lock()
		if c.gens[provider] == e {
			delete(c.gens, provider)
		}
		c.mu.Unlock()
	}
	return e.gen, e.err
}

// Close closes every opened generator.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, e := range c.gens {
		if e.gen != nil {
			errs = append(errs, e.gen.Close())
		}
	}
	c.gens = map[string]*entry{}
	return errors.Join(errs...)
}

// Generation is the record of one generation.
type Generation struct {
	RunID        string
	NodeID       string
	Provider     string // as the node gave it: gpt2, a folder, api:work
	Model        string // the generator's Name()
	Prompt       string
	Output       string
	Params       json.RawMessage // max_tokens, temperature, top_k, top_p, repetition_penalty, seed, stop
	PromptTokens int
	OutputTokens int
	FirstToken   time.Duration
	Total        time.Duration
	TokensPerSec float64
	FinishReason string
	Error        string // "" on success; a failed generation keeps its partial output
	Created      time.Time
}

// Log records generations (the store implements it).
type Log interface {
	SaveGeneration(ctx context.Context, g Generation) error
}

type providersKey struct{}
type logKey struct{}

// WithProviders makes p the run's model providers.
func WithProviders(opts *engine.Options, p Providers) {
	if opts.Services == nil {
		opts.Services = map[any]any{}
	}
	opts.Services[providersKey{}] = p
}

// WithLog makes l the run's generation log.
func WithLog(opts *engine.Options, l Log) {
	if opts.Services == nil {
		opts.Services = map[any]any{}
	}
	opts.Services[logKey{}] = l
}

// ProvidersFrom returns the run's providers, or nil.
func ProvidersFrom(c *engine.Call) Providers {
	p, _ := c.Service(providersKey{}).(Providers)
	return p
}

// LogFrom returns the run's generation log, or nil.
func LogFrom(c *engine.Call) Log {
	l, _ := c.Service(logKey{}).(Log)
	return l
}

func init() {
	engine.Register(engine.Spec{
		Type: "text.generate", Title: "Generate text", Category: "AI", SideEffects: true, Icon: "documentCreate",
		Summary: "Writes text with a language model: GPT-2 on this computer, or an OpenAI-compatible API.",
		Doc: "The prompt is a template: `Write a short thank-you letter to {{ row.name }} for ordering {{ row.product }}.` " +
			"The provider is a local model (`gpt2`, `distilgpt2`, … after `deskbot model pull`, or a checkpoint folder) " +
			"or `api:PROFILE` for an API profile made with `deskbot model provider add` " +
			"(`api:PROFILE/MODEL` asks the same server for another model). " +
			"Temperature 0 always picks the likeliest token (same output every time). " +
			"Every generation is kept in the history with its timings.",
		Fields: append(append(modelFields()[:1:1],
			engine.Field{Name: "prompt", Title: "Prompt", Kind: engine.KindMulti, Required: true, Help: "Text with {{ }} variables."}),
			append(modelFields()[1:],
				engine.Field{Name: "output", Title: "Into variable", Kind: engine.KindVar, Required: true, Default: "text"})...),
		New: newGenerate,
	})
}

type generate struct {
	provider, prompt *engine.Template
	stop             []*engine.Template
	req              model.Request
	output           string
}

func newGenerate(p *engine.Params) (engine.Activity, error) {
	a := &generate{
		provider: p.Template("provider"),
		prompt:   p.Template("prompt"),
		stop:     p.List("stop"),
		output:   p.Var("output"),
	}
	a.req = requestParams(p)
	return a, nil
}

// requestParams reads and checks the generation fields that text.generate
// and text.generate_rows share.
func requestParams(p *engine.Params) model.Request {
	r := model.Request{
		MaxTokens:         p.Int("max_tokens"),
		Temperature:       p.Float("temperature"),
		TopK:              p.Int("top_k"),
		TopP:              p.Float("top_p"),
		RepetitionPenalty: p.Float("repetition_penalty"),
		Seed:              int64(p.Int("seed")),
	}
	if r.MaxTokens < 1 || r.MaxTokens > 100000 {
		p.Fail("max_tokens", "want 1 to 100000, got %d", r.MaxTokens)
	}
	if r.Temperature < 0 || r.Temperature > 5 {
		p.Fail("temperature", "want 0 to 5, got %v", r.Temperature)
	}
	if r.TopK < 0 {
		p.Fail("top_k", "want 0 (off) or more, got %d", r.TopK)
	}
	if r.TopP < 0 || r.TopP > 1 {
		p.Fail("top_p", "want a share from 0 to 1, got %v", r.TopP)
	}
	if r.RepetitionPenalty < 0 {
		p.Fail("repetition_penalty", "want 1 (off) or more, got %v", r.RepetitionPenalty)
	}
	return r
}

// prepare evaluates the node's templates for this call.
func (a *generate) prepare(c *engine.Call) (provider string, req model.Request, err error) {
	req = a.req
	if provider, req.Stop, err = evalProvider(c, a.provider, a.stop); err != nil {
		return "", req, err
	}
	req.Prompt, err = c.Text(a.prompt)
	if err != nil {
		return "", req, fmt.Errorf("prompt: %w", err)
	}
	return provider, req, nil
}

// evalProvider evaluates the provider and stop fields.
func evalProvider(c *engine.Call, pt *engine.Template, stopT []*engine.Template) (provider string, stop []string, err error) {
	provider, err = c.Text(pt)
	if err != nil {
		return "", nil, fmt.Errorf("model: %w", err)
	}
	provider = strings.TrimSpace(provider)
	if provider == "" {
		return "", nil, errors.New("model: empty; give gpt2, a checkpoint folder or api:PROFILE")
	}
	if !strings.HasPrefix(provider, "api:") && strings.ContainsAny(provider, `/\`) {
		provider = engine.Resolve(c.BaseDir(), provider) // a folder next to the flow
	}
	for i, t := range stopT {
		s, err := c.Text(t)
		if err != nil {
			return "", nil, fmt.Errorf("stop item %d: %w", i+1, err)
		}
		s = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(s)
		if s != "" {
			stop = append(stop, s)
		}
	}
	return provider, stop, nil
}

func (a *generate) DryRun(ctx context.Context, c *engine.Call) (string, error) {
	provider, req, err := a.prepare(c)
	if err != nil {
		return "", err
	}
	c.Logf("dry run: would generate up to %d tokens with %s (temperature %g) from the prompt %q", req.MaxTokens, provider, req.Temperature, clip(req.Prompt, 200))
	c.Output("prompt", req.Prompt)
	return "", c.Set(a.output, fmt.Sprintf("[text that %s would write]", provider))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// paramsJSON is a generation's parameters as recorded; row (from 1) is
// the table row of text.generate_rows, left out when 0.
func paramsJSON(r model.Request, row int) json.RawMessage {
	stop := r.Stop
	if stop == nil {
		stop = []string{}
	}
	m := map[string]any{
		"max_tokens": r.MaxTokens, "temperature": r.Temperature, "top_k": r.TopK, "top_p": r.TopP,
		"repetition_penalty": r.RepetitionPenalty, "seed": r.Seed, "stop": stop,
	}
	if row > 0 {
		m["row"] = row
	}
	b, _ := json.Marshal(m)
	return b
}

// record saves a generation in the run's generation log and returns it
// with the error, both with secrets masked. row, from 1, is the table row
// of text.generate_rows; 0 for none.
func record(ctx context.Context, c *engine.Call, provider string, gen model.Generator, req model.Request, res *model.Result, genErr error, start time.Time, row int) (Generation, error) {
	// The history never keeps a secret: known keys are masked everywhere,
	// secret-shaped text too in the error (a prompt or an answer may
	// rightly hold "password: …" as text).
	g := Generation{RunID: c.RunID(), NodeID: c.Node.ID, Provider: provider, Model: gen.Name(), Prompt: redact.Known(req.Prompt),
		Params: json.RawMessage(redact.Known(string(paramsJSON(req, row)))), Created: start}
	if res != nil {
		g.Output, g.PromptTokens, g.OutputTokens = redact.Known(res.Text), res.PromptTokens, res.OutputTokens
		g.FirstToken, g.Total, g.TokensPerSec, g.FinishReason = res.FirstToken, res.Total, res.TokensPerSecond(), res.FinishReason
	}
	if genErr != nil {
		genErr = redact.Error(genErr)
		g.Error = genErr.Error()
	}
	if l := LogFrom(c); l != nil {
		// Recorded even when the run is being stopped.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := l.SaveGeneration(sctx, g); err != nil {
			c.Log("warn", fmt.Sprintf("could not record the generation in the history: %v", err))
		}
		cancel()
	}
	return g, genErr
}

func (a *generate) Run(ctx context.Context, c *engine.Call) (string, error) {
	provider, req, err := a.prepare(c)
	if err != nil {
		return "", err
	}
	ps := ProvidersFrom(c)
	if ps == nil {
		return "", errors.New("text generation is not available in this run (no model providers were set up)")
	}
	gen, err := ps.Open(ctx, provider)
	if err != nil {
		return "", err
	}
	start := time.Now().UTC()
	res, genErr := gen.Generate(ctx, req, nil)
	g, genErr := record(ctx, c, provider, gen, req, res, genErr, start, 0)
	if genErr != nil {
		if res != nil && res.Text != "" {
			// Keep the partial text for an error port to use.
			c.Output("partial_text", res.Text)
			if err := c.Set(a.output, res.Text); err != nil {
				c.Log("warn", err.Error())
			}
		}
		return "", fmt.Errorf("generate with %s: %w", provider, genErr)
	}
	c.Output("model", g.Model)
	c.Output("prompt_tokens", g.PromptTokens)
	c.Output("output_tokens", g.OutputTokens)
	c.Output("first_token_ms", g.FirstToken.Milliseconds())
	c.Output("tokens_per_second", g.TokensPerSec)
	c.Output("finish", g.FinishReason)
	return "", c.Set(a.output, res.Text)
}
