package gpt2

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"deskbot/model"
)

type expected struct {
	PromptIDs []int `json:"prompt_ids"`
	GreedyIDs []int `json:"greedy_ids"`
	VocabSize int   `json:"vocab_size"`
	prompt    []float32
	greedy    []float32
}

func readF32(t testing.TB, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func readExpected(t testing.TB, dir string) *expected {
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	e.prompt = readF32(t, filepath.Join(dir, "expected_prompt_logits.f32"))
	e.greedy = readF32(t, filepath.Join(dir, "expected_greedy_logits.f32"))
	return &e
}

// relErr is max|got-want| over a row divided by max|want| of the row.
func relErr(got, want []float32) float64 {
	var d, s float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = max(s, math.Abs(float64(want[i])))
	}
	return d / s
}

var tinyModels = []string{"tiny-f32", "tiny-f16", "tiny-bf16"}

func withPortable(t *testing.T, on bool) {
	old := ForcePortable
	ForcePortable = on
	t.Cleanup(func() { ForcePortable = old })
}

// TestReference compares logits and greedy ids with testdata/reference.py.
func TestReference(t *testing.T) {
	for _, name := range tinyModels {
		for _, portable := range []bool{false, true} {
			for _, threads := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("%s/portable=%v/threads=%d", name, portable, threads), func(t *testing.T) {
					withPortable(t, portable)
					dir := filepath.Join("testdata", name)
					e := readExpected(t, dir)
					m, err := Load(dir, Options{Threads: threads})
					if err != nil {
						t.Fatal(err)
					}
					V := e.VocabSize
					st := m.newState(m.cfg.NPositions)
					lg, err := st.forward(context.Background(), e.PromptIDs, true)
					if err != nil {
						t.Fatal(err)
					}
					worst := 0.0
					for p := range e.PromptIDs {
						worst = max(worst, relErr(lg[p*V:(p+1)*V], e.prompt[p*V:(p+1)*V]))
					}
					// one token at a time through the KV cache
					for i, id := range e.GreedyIDs {
						var got []float32
						if i == 0 {
							got = lg[(len(e.PromptIDs)-1)*V:]
						} else {
							got, err = st.forward(context.Background(), []int{e.GreedyIDs[i-1]}, false)
							if err != nil {
								t.Fatal(err)
							}
						}
						worst = max(worst, relErr(got, e.greedy[i*V:(i+1)*V]))
						if a := argmax(got); a != id {
							t.Errorf("step %d: argmax %d, reference %d", i, a, id)
						}
					}
					t.Logf("max relative logit error %.2g", worst)
					if worst > 1e-4 {
						t.Errorf("max relative logit error %.3g > 1e-4", worst)
					}
					res, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: len(e.GreedyIDs)}, nil)
					if err != nil {
						t.Fatal(err)
					}
					want := e.GreedyIDs
					if i := slices.Index(want, m.cfg.EOSTokenID); i >= 0 {
						want = want[:i]
					}
					if !slices.Equal(res.IDs, want) {
						t.Errorf("greedy ids %v, reference %v", res.IDs, want)
					}
				})
			}
		}
	}
}

func argmax(v []float32) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}

// TestQ8Quality measures int8 weights against the float64 reference:
// logit error over the prompt and, teacher-forced along the reference's
// greedy ids, how many steps pick the same argmax; and the free-running
// greedy prefix that matches.
func TestQ8Quality(t *testing.T) { quantQuality(t, "q8", 0.05, 0.05, 2.0/3) }

// TestQ4Quality is TestQ8Quality for 4-bit weights (wte too). These tiny
// models (n_embd 20: one partial block a row) lose much more to q4 than a
// real model: mean errors 0.25-0.28, at most 0.9, argmax agreement 7-10 of
// 12. The bars still catch a broken kernel (a wrong offset, nibble or
// scale gives mean errors near 1 and more).
func TestQ4Quality(t *testing.T) { quantQuality(t, "q4", 1.2, 0.4, 0.5) }

// quantQuality fails when the largest or the mean relative logit error is
// above maxErr or maxMean, or the teacher-forced argmax agreement below
// minAgree.
func quantQuality(t *testing.T, quant string, maxErr, maxMean, minAgree float64) {
	for _, name := range tinyModels {
		for _, portable := range []bool{false, true} {
			withPortable(t, portable)
			dir := filepath.Join("testdata", name)
			e := readExpected(t, dir)
			m, err := Load(dir, Options{Threads: 2, Quant: quant})
			if err != nil {
				t.Fatal(err)
			}
			V := e.VocabSize
			st := m.newState(m.cfg.NPositions)
			lg, err := st.forward(context.Background(), e.PromptIDs, true)
			if err != nil {
				t.Fatal(err)
			}
			worst, mean, rows := 0.0, 0.0, 0
			for p := range e.PromptIDs {
				r := relErr(lg[p*V:(p+1)*V], e.prompt[p*V:(p+1)*V])
				worst, mean, rows = max(worst, r), mean+r, rows+1
			}
			agree := 0
			got := lg[(len(e.PromptIDs)-1)*V:]
			for i, id := range e.GreedyIDs {
				r := relErr(got, e.greedy[i*V:(i+1)*V])
				worst, mean, rows = max(worst, r), mean+r, rows+1
				if argmax(got) == id {
					agree++
				}
				if got, err = st.forward(context.Background(), []int{id}, false); err != nil {
					t.Fatal(err)
				}
			}
			res, err := m.Generate(context.Background(), model.Request{PromptIDs: e.PromptIDs, MaxTokens: len(e.GreedyIDs)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			prefix := 0
			for prefix < len(res.IDs) && res.IDs[prefix] == e.GreedyIDs[prefix] {
				prefix++
			}
			mean /= float64(rows)
			t.Logf("%s %s (portable=%v): relative logit error max %.3g, mean %.3g; teacher-forced argmax agreement %d/%d; free-running greedy prefix %d/%d",
				name, quant, portable, worst, mean, agree, len(e.GreedyIDs), prefix, len(e.GreedyIDs))
			if worst > maxErr || mean > maxMean {
				t.Errorf("%s %s: logit error max %.3g, mean %.3g: too large", name, quant, worst, mean)
			}
			if float64(agree) < float64(len(e.GreedyIDs))*minAgree {
				t.Errorf("%s %s: argmax agreement %d/%d", name, quant, agree, len(e.GreedyIDs))
			}
		}
	}
}
