package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"deskbot/engine"
	"deskbot/engine/redact"
	"deskbot/engine/textgen"
	"deskbot/engine/textgen/providers"
	"deskbot/model"
	"deskbot/model/gpt2"
)

func init() {
	commands["generate"] = command{"generate text: deskbot generate --model gpt2|DIR|api:PROFILE --prompt TEXT", cmdGenerate}
	serviceWirers = append(serviceWirers, wireTextGen)
}

// loadReport shows how far loading a model has come: on standard error, or
// in the studio's status bar (see openStudio).
var loadReport = loadProgress(os.Stderr)

// localModel is how local models run in flows: threads (0 = the physical
// cores) and quantisation; `deskbot run --threads/--quant` and the studio's
// Run › Local model… set it.
var localModel struct {
	sync.Mutex
	threads int
	quant   string
}

func setLocalModel(threads int, quant string) {
	localModel.Lock()
	localModel.threads, localModel.quant = threads, quant
	localModel.Unlock()
}

// wireTextGen gives a run the model providers: local models are loaded
// once per run and closed when it ends.
func wireTextGen(ctx context.Context, _ context.CancelCauseFunc, opts *engine.Options) error {
	localModel.Lock()
	threads, quant := localModel.threads, localModel.quant
	localModel.Unlock()
	cache := textgen.NewCache(providers.Opener(providers.OpenOptions{Threads: threads, Quant: quant,
		Progress: func(p string, done, total int64) { loadReport(p, done, total) },
		Retry: func(p string, attempt int, wait time.Duration, why string) {
			fmt.Fprintf(os.Stderr, "deskbot: %s answered %s; retry %d in %s\n", p, redact.String(why), attempt, wait.Round(time.Millisecond))
		},
	}))
	textgen.WithProviders(opts, cache)
	context.AfterFunc(ctx, func() { cache.Close() })
	return nil
}

type stopFlags []string

func (s *stopFlags) String() string     { return strings.Join(*s, ",") }
func (s *stopFlags) Set(v string) error { *s = append(*s, v); return nil }

func cmdGenerate(args []string) int {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	modelName := fs.String("model", "gpt2", "gpt2, distilgpt2, … (see deskbot model list), a checkpoint folder, or api:PROFILE")
	prompt := fs.String("prompt", "", "the prompt; - reads it from standard input")
	promptIDs := fs.String("prompt-ids", "", "token ids instead of a prompt, e.g. 15496,11 (local models)")
	maxTokens := fs.Int("max-tokens", 100, "tokens to generate; 0 only tokenizes (local models)")
	temperature := fs.Float64("temperature", 0.7, "0 is greedy and deterministic")
	topK := fs.Int("top-k", 40, "sample among the k likeliest tokens; 0 = off (local models)")
	topP := fs.Float64("top-p", 1, "nucleus sampling share; 1 = off")
	repPen := fs.Float64("repetition-penalty", 1, "above 1 discourages repeats; 1 = off (local models)")
	seed := fs.Int64("seed", 0, "random seed")
	var stops stopFlags
	fs.Var(&stops, "stop", "stop before this text (repeatable; \\n for a newline)")
	asJSON := fs.Bool("json", false, "print one JSON object at the end instead of streaming")
	quant := fs.String("quant", "", "local models: "+strings.Join(gpt2.QuantModes, " or ")+" quantises the weights at load (cached on disk)")
	threads := fs.Int("threads", 0, fmt.Sprintf("local models: kernel threads (0 = the physical cores: %d here)", gpt2.PhysicalCores()))
	mapWeights := fs.Bool("map-weights", false, "local models: keep the weights mapped from the cache file (shared between processes) instead of copying them into huge pages")
	ignoreEOS := fs.Bool("ignore-eos", false, "local models: never end at the end-of-text token (exactly --max-tokens tokens)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: deskbot generate --model gpt2|DIR|api:PROFILE --prompt TEXT [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "deskbot generate: unexpected argument %q (quote the prompt: --prompt \"...\")\n", fs.Arg(0))
		return 2
	}
	req := model.Request{MaxTokens: *maxTokens, Temperature: *temperature, TopK: *topK, TopP: *topP,
		RepetitionPenalty: *repPen, Seed: *seed, IgnoreEOS: *ignoreEOS}
	for _, s := range stops {
		req.Stop = append(req.Stop, strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(s))
	}
	switch {
	case *promptIDs != "":
		for _, f := range strings.Split(*promptIDs, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				fmt.Fprintf(os.Stderr, "deskbot generate: --prompt-ids: %q is not a token id\n", f)
				return 2
			}
			req.PromptIDs = append(req.PromptIDs, id)
		}
		if *prompt != "" {
			fmt.Fprintln(os.Stderr, "deskbot generate: give --prompt or --prompt-ids, not both")
			return 2
		}
	case *prompt == "-":
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskbot generate: read the prompt:", err)
			return 1
		}
		req.Prompt = string(b)
	case *prompt == "":
		fmt.Fprintln(os.Stderr, "deskbot generate: no prompt (--prompt TEXT, --prompt - for standard input, or --prompt-ids)")
		return 2
	default:
		req.Prompt = *prompt
	}
	if req.MaxTokens < 0 || req.Temperature < 0 || req.TopK < 0 || req.TopP < 0 || req.TopP > 1 {
		fmt.Fprintln(os.Stderr, "deskbot generate: --max-tokens, --temperature and --top-k must not be negative; --top-p is from 0 to 1")
		return 2
	}
	if *quant != "" && !slices.Contains(gpt2.QuantModes, *quant) {
		fmt.Fprintf(os.Stderr, "deskbot generate: --quant %q: known are %s\n", *quant, strings.Join(gpt2.QuantModes, ", "))
		return 2
	}
	if *threads < 0 {
		fmt.Fprintln(os.Stderr, "deskbot generate: --threads must not be negative (0 = the physical cores)")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	trimExecutable() // before the weights come in: the peak is theirs, not start-up's
	t0 := time.Now()
	gen, err := providers.Open(ctx, *modelName, providers.OpenOptions{Threads: *threads, Quant: *quant, MapWeights: *mapWeights,
		Progress: func(p string, done, total int64) { loadReport(p, done, total) },
		Retry: func(p string, attempt int, wait time.Duration, why string) {
			fmt.Fprintf(os.Stderr, "deskbot: %s answered %s; retry %d in %s\n", p, redact.String(why), attempt, wait.Round(time.Millisecond))
		}})
	if err != nil {
		printErr(err)
		return 1
	}
	defer gen.Close()
	load := time.Since(t0)
	trimExecutable() // and what loading used (safetensors, the cache check)
	threadsUsed := 0
	if lm, ok := gen.(interface{ Threads() int }); ok {
		threadsUsed = lm.Threads()
		if !*asJSON {
			fmt.Fprintf(os.Stderr, "deskbot: %s, %d threads (--threads to change)\n", gen.Name(), threadsUsed)
		}
	}
	// Local models: whether the converted weights came from the cache.
	cacheState, cacheNote := "", ""
	if lm, ok := gen.(interface{ Cache() (string, string) }); ok {
		cacheState, cacheNote = lm.Cache()
		if cacheNote != "" {
			fmt.Fprintf(os.Stderr, "deskbot: weights cache: %s\n", cacheNote)
		}
	}

	wrote, trimmed := false, false
	emit := func(t model.Token) error {
		if !trimmed {
			// Once more at the first token: the prompt, the first
			// collection and the first decoding have each touched their
			// code once; from here a token needs far fewer pages (a q4
			// generation's peak: 3 MB less).
			trimmed = true
			trimExecutable()
		}
		if !*asJSON {
			wrote = wrote || t.Text != ""
			_, err := os.Stdout.WriteString(t.Text)
			return err
		}
		return nil
	}
	res, genErr := gen.Generate(ctx, req, emit)
	if !*asJSON && req.MaxTokens == 0 && res != nil {
		// Tokenize only: print the ids.
		fmt.Println(joinInts(res.PromptIDs))
	} else if !*asJSON && wrote {
		fmt.Println()
	}
	if *asJSON && res != nil {
		out := map[string]any{
			"model": gen.Name(), "prompt_ids": nonNil(res.PromptIDs), "ids": nonNil(res.IDs), "text": res.Text,
			"prompt_tokens": res.PromptTokens, "output_tokens": res.OutputTokens, "finish_reason": res.FinishReason,
			"threads": threadsUsed,
			"timings": map[string]any{
				"load_ms":           ms(load),
				"first_token_ms":    ms(res.FirstToken),
				"total_ms":          ms(res.Total),
				"tokens_per_second": res.TokensPerSecond(),
			},
		}
		if cacheState != "" {
			out["cache"] = cacheState
		}
		if lm, ok := gen.(interface{ WeightsMapped() bool }); ok {
			out["weights"] = map[bool]string{true: "mapped", false: "copied"}[lm.WeightsMapped()]
		}
		if cacheNote != "" {
			out["cache_note"] = cacheNote
		}
		if genErr != nil {
			out["error"] = redact.String(genErr.Error())
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		enc.Encode(out)
	}
	if genErr != nil {
		printErr(genErr)
		if errors.Is(genErr, context.Canceled) {
			return 130
		}
		return 1
	}
	return 0
}

// printErr prints an error on standard error, secrets masked (see
// package redact): an API's answer may echo the key.
func printErr(err error) {
	fmt.Fprintln(os.Stderr, "deskbot:", redact.String(err.Error()))
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}

// loadProgress prints "loading NAME: 45%" on w, redrawn in place, with a
// final newline.
func loadProgress(w io.Writer) func(provider string, done, total int64) {
	last := -1
	return func(provider string, done, total int64) {
		if total <= 0 {
			return
		}
		pct := int(done * 100 / total)
		if pct == last {
			return
		}
		last = pct
		fmt.Fprintf(w, "\rloading %s: %3d%% (%s of %s)", provider, pct, humanBytes(done), humanBytes(total))
		if done >= total {
			fmt.Fprintln(w) // last stays 100: repeats of the end are not drawn again
		}
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
