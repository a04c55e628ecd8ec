package gpt2

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"deskbot/model"
)

// patchedCheckpoint copies testdata/tiny-f32 (F32 weights) into a temp
// folder and sets every value of the named tensor with set(i, old).
func patchedCheckpoint(t *testing.T, tensor string, set func(i int, old float32) float32) string {
	t.Helper()
	src := filepath.Join("testdata", "tiny-f32")
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
	data, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts, err := parseSafetensorsHeader(f, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ti := ts[tensor]
	if ti == nil || ti.DType != "F32" {
		t.Fatalf("no F32 tensor %q in %s", tensor, src)
	}
	for i := 0; i < ti.numel(); i++ {
		p := data[ti.Begin+int64(4*i):]
		v := set(i, math.Float32frombits(binary.LittleEndian.Uint32(p)))
		binary.LittleEndian.PutUint32(p, math.Float32bits(v))
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Finite weights so large that the logits overflow: sampling used to index
// -1 and panic. Generate now ends with an error that says what is wrong,
// for greedy and sampled generation, f32 and q8.
func TestGenerateInfiniteLogits(t *testing.T) {
	dir := patchedCheckpoint(t, "transformer.ln_f.weight", func(int, float32) float32 { return 3e38 })
	for _, quant := range []string{"", "q8"} {
		m, err := Load(dir, Options{Quant: quant, Threads: 1})
		if err != nil {
			t.Fatalf("quant %q: %v", quant, err)
		}
		for _, temp := range []float64{0, 0.8} {
			res, err := m.Generate(context.Background(), model.Request{PromptIDs: []int{1, 2, 3}, MaxTokens: 5, Temperature: temp, TopK: 40}, nil)
			if !errors.Is(err, ErrBrokenWeights) || !strings.Contains(err.Error(), "logits at token 1") {
				t.Errorf("quant %q temperature %v: error %v", quant, temp, err)
			}
			if res == nil || res.FinishReason != "error" {
				t.Errorf("quant %q temperature %v: result %+v", quant, temp, res)
			}
		}
		m.Close()
	}
}

// The sampler itself never panics, whatever the logits.
func TestSamplerNeverPanics(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, logits := range [][]float32{{nan, nan, nan}, {inf, 1, -inf}, {-inf, -inf, -inf}, {nan, 2, inf}} {
		for _, req := range []model.Request{{Temperature: 0}, {Temperature: 0.7, TopK: 2}, {Temperature: 1, TopP: 0.5, RepetitionPenalty: 1.3}} {
			s := newSampler(req)
			id := s.sample(append([]float32(nil), logits...), []int{0, 1})
			if id < 0 || id >= len(logits) {
				t.Errorf("%v %+v: id %d", logits, req, id)
			}
		}
	}
	if err := checkLogits([]float32{1, nan}, 3); err == nil || !strings.Contains(err.Error(), "NaN logits at token 3") {
		t.Errorf("checkLogits: %v", err)
	}
}

// sparseCheckpoint writes config.json for cfg and a model.safetensors whose
// header lists every tensor (F16) and whose data is a hole: the file is as
// large as the header says, without taking disk space.
func sparseCheckpoint(t *testing.T, cfg Config) string {
	t.Helper()
	dir := t.TempDir()
	E, F, P := cfg.NEmbd, cfg.inner(), cfg.NPositions
	type ts struct {
		name  string
		shape []int
	}
	list := []ts{{"wte.weight", []int{cfg.VocabSize, E}}, {"wpe.weight", []int{P, E}}, {"ln_f.weight", []int{E}}, {"ln_f.bias", []int{E}}}
	for i := 0; i < cfg.NLayer; i++ {
		p := fmt.Sprintf("h.%d.", i)
		list = append(list, ts{p + "ln_1.weight", []int{E}}, ts{p + "ln_1.bias", []int{E}},
			ts{p + "attn.c_attn.weight", []int{E, 3 * E}}, ts{p + "attn.c_attn.bias", []int{3 * E}},
			ts{p + "attn.c_proj.weight", []int{E, E}}, ts{p + "attn.c_proj.bias", []int{E}},
			ts{p + "ln_2.weight", []int{E}}, ts{p + "ln_2.bias", []int{E}},
			ts{p + "mlp.c_fc.weight", []int{E, F}}, ts{p + "mlp.c_fc.bias", []int{F}},
			ts{p + "mlp.c_proj.weight", []int{F, E}}, ts{p + "mlp.c_proj.bias", []int{E}})
	}
	hdr := map[string]any{}
	var off int64
	for _, x := range list {
		n := int64(2)
		for _, d := range x.shape {
			n *= int64(d)
		}
		hdr[x.name] = map[string]any{"dtype": "F16", "shape": x.shape, "data_offsets": []int64{off, off + n}}
		off += n
	}
	hb, _ := json.Marshal(hdr)
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	binary.Write(f, binary.LittleEndian, uint64(len(hb)))
	f.Write(hb)
	if err := f.Truncate(8 + int64(len(hb)) + off); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	f.Close()
	cb, _ := json.Marshal(map[string]any{"model_type": "gpt2", "n_layer": cfg.NLayer, "n_head": cfg.NHead, "n_embd": E,
		"n_positions": P, "vocab_size": cfg.VocabSize})
	os.WriteFile(filepath.Join(dir, "config.json"), cb, 0o644)
	return dir
}

// A checkpoint whose sizes agree with each other and with the file, but
// describe a 1 TiB model (a sparse file): Load used to try the allocation
// and the runtime died. It now refuses before allocating, naming the file
// and the largest tensor.
func TestLoadHugeCheckpoint(t *testing.T) {
	cfg := Config{NLayer: 1, NHead: 1, NEmbd: 1 << 16, NPositions: 1, VocabSize: 1 << 22}
	dir := sparseCheckpoint(t, cfg)
	for _, quant := range []string{"", "q8"} {
		_, err := Load(dir, Options{Quant: quant})
		if err == nil || !strings.Contains(err.Error(), "model.safetensors") || !strings.Contains(err.Error(), `"wte.weight"`) ||
			!strings.Contains(err.Error(), "TiB of memory") {
			t.Fatalf("quant %q: %v", quant, err)
		}
	}
}

// The memory check counts what the model keeps and what reading needs: a
// limit just under that refuses, one at it loads.
func TestLoadMemoryLimit(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	saved := memoryLimit
	defer func() { memoryLimit = saved }()
	plan := func(quant string) *loader {
		st, err := openSafetensors(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg, _ := ReadConfig(dir)
		l := &loader{st: st, q8: quant == "q8", plan: true}
		(&Model{cfg: cfg}).readWeights(l)
		if l.err != nil {
			t.Fatal(l.err)
		}
		return l
	}
	for _, quant := range []string{"", "q8"} {
		l := plan(quant)
		need := l.keep + l.peak
		memoryLimit = func() int64 { return need - 1 }
		if _, err := Load(dir, Options{Quant: quant}); err == nil || !strings.Contains(err.Error(), "needs") {
			t.Errorf("quant %q, limit %d < need: %v", quant, need-1, err)
		}
		memoryLimit = func() int64 { return need }
		if _, err := Load(dir, Options{Quant: quant}); err != nil {
			t.Errorf("quant %q, limit = need %d: %v", quant, need, err)
		}
	}
	if plan("q8").keep >= plan("").keep {
		t.Error("q8 should keep less than f32")
	}
}

// NaN or infinite weights are refused when the checkpoint loads, with the
// file, the tensor and the index, in every dtype.
func TestLoadNonFiniteWeights(t *testing.T) {
	for _, c := range []struct {
		tensor string
		v      float32
		want   string
	}{
		{"transformer.h.1.mlp.c_fc.weight", float32(math.NaN()), "holds NaN at index 77"},
		{"transformer.wte.weight", float32(math.Inf(-1)), "holds an infinite value at index 77"},
		{"transformer.wpe.weight", float32(math.Inf(1)), "holds an infinite value at index 77"},
	} {
		dir := patchedCheckpoint(t, c.tensor, func(i int, old float32) float32 {
			if i == 77 {
				return c.v
			}
			return old
		})
		for _, quant := range []string{"", "q8"} {
			_, err := Load(dir, Options{Quant: quant})
			if !errors.Is(err, ErrBrokenWeights) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.tensor) ||
				!strings.Contains(err.Error(), "model.safetensors") {
				t.Errorf("%s = %v, quant %q: %v", c.tensor, c.v, quant, err)
			}
		}
	}
	// F16 and BF16: the exponent's all-ones pattern, converted.
	for _, bits := range []uint16{0x7c00, 0xfe00} {
		if v := f16ToF32(bits); firstNonFinite([]float32{1, 2, v}) != 2 {
			t.Errorf("f16 %#x -> %v not caught", bits, v)
		}
	}
	if firstNonFinite(make([]float32, 1000)) != -1 || firstNonFinite([]float32{3e38, -3e38, 1e-45}) != -1 {
		t.Error("finite values flagged")
	}
}

// The attention cache is checked against memory before it is allocated: a
// config with many layers and a long context, asked for many tokens, gets
// an error instead of an allocation the runtime cannot survive.
func TestGenerateCacheTooBig(t *testing.T) {
	m := load(t, filepath.Join("testdata", "tiny-f32"), Options{Threads: 1})
	saved := memoryLimit
	defer func() { memoryLimit = saved }()
	kv := int64(8 * 2 * 40 * 20) // 2 layers, 40 positions, n_embd 20
	memoryLimit = func() int64 { return kv - 1 }
	req := model.Request{PromptIDs: []int{1, 2}, MaxTokens: 38}
	if _, err := m.Generate(context.Background(), req, nil); err == nil || !strings.Contains(err.Error(), "40 tokens of context need") {
		t.Fatalf("limit below the cache: %v", err)
	}
	memoryLimit = func() int64 { return kv }
	if _, err := m.Generate(context.Background(), req, nil); err != nil {
		t.Fatalf("limit at the cache: %v", err)
	}
}

// FuzzLoad loads checkpoints whose safetensors header is mutated, in
// front of tiny-f16's weights (with its config.json): Load must return a
// model or an error naming the file, never panic or run out of memory, and
// a model that loads must generate or fail cleanly.
func FuzzLoad(f *testing.F) {
	src := filepath.Join("testdata", "tiny-f16")
	cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	st, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	hlen := binary.LittleEndian.Uint64(st)
	header, weights := st[8:8+hlen], st[8+hlen:]
	tok, err := BuiltinTokenizer() // once: building it takes longer than a load
	if err != nil {
		f.Fatal(err)
	}
	f.Add(header)
	f.Add([]byte(`{"wte.weight":{"dtype":"F16","shape":[384,20],"data_offsets":[0,15360]}}`))
	f.Add([]byte(`{"wte.weight":{"dtype":"F16","shape":[4194304,65536],"data_offsets":[0,549755813888]}}`))
	f.Fuzz(func(t *testing.T, h []byte) {
		dir, err := os.MkdirTemp("", "fuzzload")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		file := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		file = append(append(file, h...), weights...)
		os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
		os.WriteFile(filepath.Join(dir, "model.safetensors"), file, 0o644)
		m, err := Load(dir, Options{Threads: 1, Tokenizer: tok})
		if err != nil {
			if !strings.Contains(err.Error(), "model.safetensors") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		defer m.Close()
		m.Generate(context.Background(), model.Request{PromptIDs: []int{1, 2}, MaxTokens: 3, Temperature: 0.8, TopK: 5}, nil)
	})
}
