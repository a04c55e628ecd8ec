// Package model holds Deskbot's text generators behind one interface:
// GPT-2 run locally (package model/gpt2) and any OpenAI-compatible API
// (package model/openai).
package model

import (
	"context"
	"time"
)

// Request asks a generator for text.
type Request struct {
	Prompt    string // text prompt; ignored when PromptIDs is set
	PromptIDs []int  // token ids instead of text (local models only)
	MaxTokens int    // tokens to generate; 0 only tokenizes (local)
	// Temperature 0 is greedy and deterministic.
	Temperature       float64
	TopK              int     // 0 = off
	TopP              float64 // 0 or 1 = off
	RepetitionPenalty float64 // 0 or 1 = off
	Seed              int64
	Stop              []string // generation ends before any of these
	// IgnoreEOS never picks the end-of-text token, so that exactly
	// MaxTokens tokens come (local models; for benchmarks and fixed-length
	// output).
	IgnoreEOS bool
}

// Token is one streamed piece of output.
type Token struct {
	ID   int    // token id; -1 when the provider does not say
	Text string // the text this token adds
}

// Result describes a finished generation.
type Result struct {
	Text         string
	PromptIDs    []int // local models
	IDs          []int // generated ids (local models)
	PromptTokens int
	OutputTokens int
	FinishReason string        // "length", "stop", "eos", "cancelled"
	FirstToken   time.Duration // time to first token
	Total        time.Duration
}

// TokensPerSecond is the generation speed after the first token.
func (r *Result) TokensPerSecond() float64 {
	d := r.Total - r.FirstToken
	if r.OutputTokens <= 1 || d <= 0 {
		return 0
	}
	return float64(r.OutputTokens-1) / d.Seconds()
}

// Generator produces text. Generate streams each token to emit as it is
// made; returning an error from emit, or cancelling ctx, stops generation.
type Generator interface {
	Generate(ctx context.Context, req Request, emit func(Token) error) (*Result, error)
	// Name says which model this is, for history ("gpt2 (local)", "api:work/gpt-4o-mini").
	Name() string
	Close() error
}

// BatchGenerator is a Generator that can work on several requests at once:
// a local model reads its weights once per step for all of them, an API
// client sends them concurrently (at most its limit at a time).
//
// GenerateBatch returns one Result and one error per request, in the order
// of reqs; emit is called with the index of the request a token belongs
// to (calls may come from several goroutines, never at once for the same
// index). A failed request has a nil or partial Result and its error; the
// others go on. When ctx is cancelled every unfinished request ends with
// context.Cause(ctx).
type BatchGenerator interface {
	Generator
	GenerateBatch(ctx context.Context, reqs []Request, emit func(i int, t Token) error) ([]*Result, []error)
}

// GenerateAll runs reqs through g: at once when g is a BatchGenerator,
// one after another otherwise. emit may be nil.
func GenerateAll(ctx context.Context, g Generator, reqs []Request, emit func(i int, t Token) error) ([]*Result, []error) {
	if emit == nil {
		emit = func(int, Token) error { return nil }
	}
	if b, ok := g.(BatchGenerator); ok {
		return b.GenerateBatch(ctx, reqs, emit)
	}
	res := make([]*Result, len(reqs))
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		if err := ctx.Err(); err != nil {
			errs[i] = context.Cause(ctx)
			continue
		}
		res[i], errs[i] = g.Generate(ctx, r, func(t Token) error { return emit(i, t) })
	}
	return res, errs
}
