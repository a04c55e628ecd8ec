package gpt2

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// writeCheckpoint writes a Hugging Face GPT-2 folder with random weights
// (normal, std 0.02; layer norm gains 1) in F16 to keep the file small.
func writeCheckpoint(dir string, cfg Config) error {
	E, F, L := cfg.NEmbd, cfg.inner(), cfg.NLayer
	type tensor struct {
		name  string
		shape []int
		fill  float32 // 0 = random
	}
	ts := []tensor{{"transformer.wte.weight", []int{cfg.VocabSize, E}, 0}, {"transformer.wpe.weight", []int{cfg.NPositions, E}, 0}}
	for i := 0; i < L; i++ {
		p := fmt.Sprintf("transformer.h.%d.", i)
		ts = append(ts,
			tensor{p + "ln_1.weight", []int{E}, 1}, tensor{p + "ln_1.bias", []int{E}, 0},
			tensor{p + "attn.c_attn.weight", []int{E, 3 * E}, 0}, tensor{p + "attn.c_attn.bias", []int{3 * E}, 0},
			tensor{p + "attn.c_proj.weight", []int{E, E}, 0}, tensor{p + "attn.c_proj.bias", []int{E}, 0},
			tensor{p + "ln_2.weight", []int{E}, 1}, tensor{p + "ln_2.bias", []int{E}, 0},
			tensor{p + "mlp.c_fc.weight", []int{E, F}, 0}, tensor{p + "mlp.c_fc.bias", []int{F}, 0},
			tensor{p + "mlp.c_proj.weight", []int{F, E}, 0}, tensor{p + "mlp.c_proj.bias", []int{E}, 0})
	}
	ts = append(ts, tensor{"transformer.ln_f.weight", []int{E}, 1}, tensor{"transformer.ln_f.bias", []int{E}, 0})
	hdr := map[string]any{}
	off := 0
	for _, t := range ts {
		n := 2
		for _, d := range t.shape {
			n *= d
		}
		hdr[t.name] = map[string]any{"dtype": "F16", "shape": t.shape, "data_offsets": []int{off, off + n}}
		off += n
	}
	hb, _ := json.Marshal(hdr)
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	binary.Write(w, binary.LittleEndian, uint64(len(hb)))
	w.Write(hb)
	// tensors in header order (offsets were assigned in ts order)
	sort.SliceStable(ts, func(i, j int) bool { return false })
	r := rand.New(rand.NewPCG(42, 43))
	var b [2]byte
	for _, t := range ts {
		n := 1
		for _, d := range t.shape {
			n *= d
		}
		for i := 0; i < n; i++ {
			v := t.fill
			if v == 0 {
				v = float32(r.NormFloat64() * 0.02)
			}
			binary.LittleEndian.PutUint16(b[:], f32ToF16(v))
			w.Write(b[:])
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	cb, _ := json.Marshal(map[string]any{"model_type": "gpt2", "n_layer": cfg.NLayer, "n_head": cfg.NHead, "n_embd": E,
		"n_positions": cfg.NPositions, "vocab_size": cfg.VocabSize, "layer_norm_epsilon": cfg.LayerNormEpsilon, "activation_function": "gelu_new"})
	return os.WriteFile(filepath.Join(dir, "config.json"), cb, 0o644)
}

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
	benchMu   sync.Mutex
	benchM    = map[string]*Model{}
)

func benchModel(b *testing.B, quant string) *Model {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "gpt2-bench-")
		if benchErr == nil {
			benchErr = writeCheckpoint(benchDir, Configs["gpt2"])
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	benchMu.Lock()
	defer benchMu.Unlock()
	if m := benchM[quant]; m != nil {
		return m
	}
	for q, m := range benchM { // keep one model in memory at a time
		m.Close()
		delete(benchM, q)
	}
	m, err := Load(benchDir, Options{Quant: quant})
	if err != nil {
		b.Fatal(err)
	}
	benchM[quant] = m
	return m
}

func TestMain(m *testing.M) {
	// The weights cache goes to a folder of this run, not the user's
	// (unless a cache test re-executes this binary with its own).
	var cacheDir string
	if os.Getenv(cacheEnvName) == "" {
		d, err := os.MkdirTemp("", "gpt2-cache-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cacheDir = d
		os.Setenv(cacheEnvName, d)
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	if cacheDir != "" {
		os.RemoveAll(cacheDir)
	}
	os.Exit(code)
}

// benchCases: kernels "" is the best this CPU runs (AVX-512 for q8, AVX-512
// VNNI for q4 where present, else AVX2/FMA); "avx2" and "portable" are the baselines
// measured in the same run.
var benchCases = []struct {
	quant   string
	threads int
	kernels string
}{
	{"", 1, ""}, {"", 2, ""}, {"q8", 1, ""}, {"q8", 2, ""},
	{"q8", 2, "avx2"}, {"", 2, "portable"}, {"q8", 2, "portable"},
	{"q4", 1, ""}, {"q4", 2, ""}, {"q4", 2, "avx2"}, {"q4", 2, "portable"},
}

// avx2IsDefault says the AVX2 kernels are the best this CPU runs for quant.
func avx2IsDefault(quant string) bool {
	return !haveAsm || quant == "q8" && !haveAVX512 || quant == "q4" && !haveVNNI
}

func benchName(quant string, threads int, kernels string) string {
	q := quant
	if q == "" {
		q = "f32"
	}
	k := kernels
	switch {
	case !haveAsm || k == "portable":
		k = "portable"
	case k == "" && haveAVX512 && quant == "q8":
		k = "avx512"
	case k == "" && haveVNNI && quant == "q4":
		k = "vnni"
	case k == "":
		k = "avx2"
	}
	return fmt.Sprintf("%s/threads=%d/%s", q, threads, k)
}

// BenchmarkPrompt128 processes a 128-token prompt as one batch on a
// GPT-2-124M-shaped model with random weights.
func BenchmarkPrompt128(b *testing.B) {
	for _, c := range benchCases {
		name := benchName(c.quant, c.threads, c.kernels)
		if c.kernels == "avx2" && avx2IsDefault(c.quant) {
			continue // the same as the default case here
		}
		b.Run(name, func(b *testing.B) {
			m := benchModel(b, c.quant)
			useVariant(b, c.kernels)
			m.pool.threads = c.threads
			ids := make([]int, 128)
			for i := range ids {
				ids[i] = (i * 7919) % 50257
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				st := m.newState(128)
				if _, err := st.forward(context.Background(), ids, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(128*b.N)/time.Since(start).Seconds(), "tok/s")
		})
	}
}

// BenchmarkGenerate128 generates 128 tokens one at a time (greedy, KV
// cache) after an 8-token prompt; only the 128 steps are timed.
func BenchmarkGenerate128(b *testing.B) {
	for _, c := range benchCases {
		name := benchName(c.quant, c.threads, c.kernels)
		if c.kernels == "avx2" && avx2IsDefault(c.quant) {
			continue // the same as the default case here
		}
		b.Run(name, func(b *testing.B) {
			m := benchModel(b, c.quant)
			useVariant(b, c.kernels)
			m.pool.threads = c.threads
			var total time.Duration
			for i := 0; i < b.N; i++ {
				st := m.newState(136)
				lg, err := st.forward(context.Background(), []int{464, 2068, 7586, 21831, 18045, 625, 262, 16931}, false)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for j := 0; j < 128; j++ {
					if lg, err = st.forward(context.Background(), []int{argmax(lg)}, false); err != nil {
						b.Fatal(err)
					}
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(128*b.N)/total.Seconds(), "tok/s")
		})
	}
}

func TestF32ToF16(t *testing.T) {
	for _, v := range []float32{0, 1, -2.5, 0.02, -0.0001, 65504, 1e-7} {
		got := f16ToF32(f32ToF16(v))
		if math.Abs(float64(got-v)) > math.Abs(float64(v))/1000+1e-7 {
			t.Errorf("%v -> %v", v, got)
		}
	}
}

// BenchmarkQ8Quality compares q8 and q4 with f32 on the GPT-2-124M-shaped
// random checkpoint: teacher-forced over 64 greedy f32 steps, the share of
// steps whose argmax agrees and the largest logit error relative to the
// row's largest |logit|. (Random weights give flat logits, a hard case for
// argmax agreement; see TestQ8Quality for the tiny reference models.) The
// q4 variants: wte (the tied embedding and lm_head) in q4 or q8, and the
// scale search off (ggml's q4_0 scale).
func BenchmarkQ8Quality(b *testing.B) {
	benchModel(b, "") // writes the checkpoint
	f, err := Load(benchDir, Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		name, quant    string
		embed4, search bool
	}{{"q8", "q8", true, true}, {"q4", "q4", true, true}, {"q4-wte-q8", "q4", false, true}, {"q4-ggml-scale", "q4", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			defer func(e, s bool) { embedQ4, q4Search = e, s }(embedQ4, q4Search)
			embedQ4, q4Search = c.embed4, c.search
			q, err := Load(benchDir, Options{Threads: 2, Quant: c.quant})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			for i := 0; i < b.N; i++ {
				sf, sq := f.newState(80), q.newState(80)
				prompt := []int{464, 2068, 7586, 21831, 18045, 625, 262, 16931}
				lf, _ := sf.forward(context.Background(), prompt, false)
				lq, _ := sq.forward(context.Background(), prompt, false)
				agree, worst, mean := 0, 0.0, 0.0
				const steps = 64
				for j := 0; j < steps; j++ {
					e := relErr(lq, lf)
					worst, mean = max(worst, e), mean+e/steps
					next := argmax(lf)
					if argmax(lq) == next {
						agree++
					}
					lf, _ = sf.forward(context.Background(), []int{next}, false)
					lq, _ = sq.forward(context.Background(), []int{next}, false)
				}
				b.ReportMetric(float64(agree)/steps, "argmax-agree")
				b.ReportMetric(worst, "max-rel-logit-err")
				b.ReportMetric(mean, "mean-rel-logit-err")
			}
		})
	}
}

// BenchmarkLoad loads the GPT-2-124M-shaped checkpoint (F16 on disk) in
// f32 and q8: from the cache file (hit: hash the checkpoint, map the file,
// check its checksums), writing the cache file (miss: convert tensor by
// tensor into a new file, then map it) and without a cache (off: convert
// in memory, the path every load took before the cache: the baseline).
// Each iteration runs every case once, in an order that rotates, so that
// all see the same machine; it reports each case's mean time and the
// ratios to off.
func BenchmarkLoad(b *testing.B) {
	benchModel(b, "") // writes the checkpoint once
	benchMu.Lock()
	for q, m := range benchM {
		m.Close()
		delete(benchM, q)
	}
	benchMu.Unlock()
	hitDir := b.TempDir()
	type bcase struct{ quant, cache string }
	var cases []bcase
	for _, q := range []string{"", "q8"} {
		for _, c := range []string{"off", "miss", "hit"} {
			cases = append(cases, bcase{q, c})
		}
		m, err := Load(benchDir, Options{Threads: 1, Quant: q, CacheDir: hitDir}) // fills the hit cache
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
	took := make([]time.Duration, len(cases))
	i := 0
	for b.Loop() {
		for k := range cases {
			k = (k + i) % len(cases)
			c := cases[k]
			opts := Options{Threads: 1, Quant: c.quant, CacheDir: hitDir}
			switch c.cache {
			case "off":
				opts.NoCache = true
			case "miss":
				opts.CacheDir = b.TempDir()
			}
			t0 := time.Now()
			m, err := Load(benchDir, opts)
			if err != nil {
				b.Fatal(err)
			}
			took[k] += time.Since(t0)
			if st, _ := m.Cache(); st != c.cache {
				b.Fatalf("%+v: cache %s", c, st)
			}
			m.Close()
			if c.cache == "miss" {
				os.RemoveAll(opts.CacheDir)
			}
		}
		i++
	}
	for k, c := range cases {
		q := c.quant
		if q == "" {
			q = "f32"
		}
		b.ReportMetric(float64(took[k].Milliseconds())/float64(i), "ms/"+q+"-"+c.cache)
		if c.cache != "off" {
			b.ReportMetric(float64(took[k])/float64(took[k-int(k%3)]), q+"-"+c.cache+"/off")
		}
	}
}

// BenchmarkLoadChecked loads the checkpoint (f32, no cache) with the
// NaN/Inf check of every weight and without it (the baseline),
// alternating the order in each iteration so that both see the same
// machine; it reports each one's mean time and their ratio.
func BenchmarkLoadChecked(b *testing.B) {
	benchModel(b, "") // writes the checkpoint once
	benchMu.Lock()
	for q, m := range benchM {
		m.Close()
		delete(benchM, q)
	}
	benchMu.Unlock()
	saved := checkFinite
	defer func() { checkFinite = saved }()
	var took [2]time.Duration
	i := 0
	for b.Loop() {
		for _, on := range [][2]bool{{false, true}, {true, false}}[i%2] {
			checkFinite = on
			t0 := time.Now()
			m, err := Load(benchDir, Options{Threads: 1, NoCache: true})
			if err != nil {
				b.Fatal(err)
			}
			took[map[bool]int{false: 0, true: 1}[on]] += time.Since(t0)
			m.Close()
		}
		i++
	}
	b.ReportMetric(float64(took[0].Milliseconds())/float64(i), "ms/load-unchecked")
	b.ReportMetric(float64(took[1].Milliseconds())/float64(i), "ms/load-checked")
	b.ReportMetric(float64(took[1])/float64(took[0]), "checked/unchecked")
}

// BenchmarkFirstNonFinite scans 124M float32 weights' worth in pieces of
// one tensor row block (MB/s of float32).
func BenchmarkFirstNonFinite(b *testing.B) {
	v := make([]float32, 1<<20)
	for i := range v {
		v[i] = float32(i%1000) * 0.001
	}
	b.SetBytes(int64(len(v)) * 4)
	for b.Loop() {
		if firstNonFinite(v) != -1 {
			b.Fatal("flagged")
		}
	}
}
