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
