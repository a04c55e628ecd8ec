// Package providers opens Deskbot's text generators by provider name: an
// installed local GPT-2 model, a checkpoint folder, or "api:PROFILE" for an
// OpenAI-compatible API profile. It is kept apart from package textgen so
// that the activity (and the store, which records generations) do not pull
// in the model code.
package providers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"deskbot/model"
	"deskbot/model/gpt2"
	"deskbot/model/hub"
	"deskbot/model/openai"
)

// OpenOptions configure how providers are opened.
type OpenOptions struct {
	Threads    int    // local models: kernel threads; 0 = the idle cores
	Quant      string // local models: "" or "q8"
	MapWeights bool   // local models: keep the weights mapped from the cache file (shared, not copied into huge pages)
	// Progress reports loading a local model's weights.
	Progress func(provider string, done, total int64)
	// Retry is told about API retries (for the run log or stderr).
	Retry func(provider string, attempt int, wait time.Duration, why string)
	API   openai.Options
}

// APIPrefix marks an API profile provider: "api:work".
const APIPrefix = "api:"

// Open opens a provider: "api:PROFILE" is an OpenAI-compatible API
// profile ("api:PROFILE/MODEL" with another model of the same server);
// anything else is an installed local model (gpt2, distilgpt2…)
// or a checkpoint folder.
func Open(ctx context.Context, provider string, o OpenOptions) (model.Generator, error) {
	if name, ok := strings.CutPrefix(provider, APIPrefix); ok {
		ao := o.API
		if o.Retry != nil {
			ao.Notify = func(a int, w time.Duration, why string) { o.Retry(provider, a, w, why) }
		}
		if prof, m, ok := strings.Cut(name, "/"); ok {
			name, ao.Model = prof, m
		}
		return openai.Open(name, ao)
	}
	dir, err := hub.Resolve(provider)
	if err != nil {
		return nil, err
	}
	lo := gpt2.Options{Threads: o.Threads, Quant: o.Quant, MapWeights: o.MapWeights}
	if !strings.ContainsAny(provider, `/\`) {
		lo.Name = provider
	}
	if o.Progress != nil {
		lo.Progress = func(done, total int64) { o.Progress(provider, done, total) }
	}
	m, err := gpt2.Load(dir, lo)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", provider, err)
	}
	return m, nil
}

// Opener returns Open with fixed options, as a textgen.OpenFunc.
func Opener(o OpenOptions) func(ctx context.Context, provider string) (model.Generator, error) {
	return func(ctx context.Context, provider string) (model.Generator, error) { return Open(ctx, provider, o) }
}
