package gpt2

import (
	"context"
	"encoding/binary"
	"errors"
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
			s := newSampler(req, len(logits))
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
