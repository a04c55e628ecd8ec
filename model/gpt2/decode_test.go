package gpt2

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomModel builds a model in memory with random weights (no file).
func randomModel(cfg Config, quant string, seed uint64) *Model {
	r := rand.New(rand.NewPCG(seed, seed+1))
	E, F, V := cfg.NEmbd, cfg.inner(), cfg.VocabSize
	vec := func(n int, scale float64, bias float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(bias + scale*r.NormFloat64())
		}
		return v
	}
	mat := func(rows, cols, pw int) matrix {
		m := matrix{rows: rows, cols: cols, pw: pw}
		w := vec(rows*cols, 0.2, 0)
		switch quant {
		case "q8":
			m.quantize(w)
		case "q4":
			m.quantize4(w)
		default:
			m.setF(w)
		}
		return m
	}
	projPW, fc2PW := cfg.panels(quant != "")
	m := &Model{cfg: cfg, quant: quant, pool: newPool(1)}
	m.wte = mat(V, E, 0)
	m.wpe = vec(cfg.NPositions*E, 0.1, 0)
	m.lnfg, m.lnfb = vec(E, 0.1, 1), vec(E, 0.1, 0)
	m.layers = make([]layer, cfg.NLayer)
	for i := range m.layers {
		ly := &m.layers[i]
		ly.ln1g, ly.ln1b, ly.ln2g, ly.ln2b = vec(E, 0.1, 1), vec(E, 0.1, 0), vec(E, 0.1, 1), vec(E, 0.1, 0)
		ly.attn, ly.proj, ly.fc, ly.fc2 = mat(3*E, E, 0), mat(E, E, projPW), mat(F, E, 0), mat(E, F, fc2PW)
		ly.attnB, ly.projB, ly.fcB, ly.fc2B = vec(3*E, 0.1, 0), vec(E, 0.1, 0), vec(F, 0.1, 0), vec(E, 0.1, 0)
	}
	return m
}

// TestDecodeMatchesBatch checks the fused one-token step (decode) against
// the batch path with one parallel step per matrix, for f32, q8 and q4, every
// kernel set, 2 and 3 threads, and head widths that do and do not fill whole
// q8 blocks (the fused and the separate output projection).
func TestDecodeMatchesBatch(t *testing.T) {
	for _, shape := range []struct{ E, H, F int }{{64, 2, 256}, {128, 2, 200}, {48, 4, 96}} {
		cfg := Config{NLayer: 2, NHead: shape.H, NEmbd: shape.E, NInner: shape.F, NPositions: 24, VocabSize: 97,
			LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: 96}
		for _, quant := range []string{"", "q8", "q4"} {
			m := randomModel(cfg, quant, uint64(shape.E))
			tol := 1e-5
			if quant != "" {
				tol = 1e-4
			}
			for _, v := range kernelVariants() {
				for _, threads := range []int{2, 3} { // one thread takes the batch path
					t.Run(fmt.Sprintf("E=%d/H=%d/%s/%s/threads=%d", shape.E, shape.H, quant, v, threads), func(t *testing.T) {
						useVariant(t, v)
						m.pool.threads = threads
						fused, split := m.newState(cfg.NPositions), m.newState(cfg.NPositions)
						prompt := []int{3, 14, 15, 92}
						if _, err := fused.forward(context.Background(), prompt, false); err != nil {
							t.Fatal(err)
						}
						if _, err := split.forward(context.Background(), prompt, false); err != nil {
							t.Fatal(err)
						}
						id := 65
						for step := 0; step < 12; step++ {
							a, err := fused.forward(context.Background(), []int{id}, false)
							if err != nil {
								t.Fatal(err)
							}
							unfused = true
							b, err := split.forward(context.Background(), []int{id}, false)
							unfused = false
							if err != nil {
								t.Fatal(err)
							}
							// q8: the int16 activation rounding can flip
							// where the sum order differs; q4's kernels
							// round to int8, where one flip moves a logit
							// by about 1e-3 of the largest (a wrong share
							// or panel gives errors of 0.1 and more)
							tol := tol
							if quant == "q4" && v != "portable" {
								tol = 3e-2
							}
							if e := relErr(a, b); e > tol {
								t.Fatalf("step %d: fused and batch logits differ by %.3g (relative)", step, e)
							}
							id = argmax(b)
						}
					})
				}
			}
		}
	}
}

// TestPromptPieces: a long prompt run in pieces of promptChunk gives the
// cache and the logits of the prompt in one piece, bit for bit, for f32,
// q8 and q4, every kernel set and 1 to 3 threads; lengths around the
// piece boundaries, and past matMul's own chunk of tokens (84 for an MLP
// 3072 wide, as in GPT-2-124M).
func TestPromptPieces(t *testing.T) {
	cfg := Config{NLayer: 2, NHead: 2, NEmbd: 128, NInner: 3072, NPositions: 260, VocabSize: 97,
		LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: 96}
	r := rand.New(rand.NewPCG(5, 6))
	prompt := make([]int, 210)
	for i := range prompt {
		prompt[i] = r.IntN(cfg.VocabSize)
	}
	variants, threadCounts, lengths := kernelVariants(), []int{1, 2, 3}, []int{2, 64, 65, 66, 67, 129, 130, 131, 210}
	if raceOn { // 10-50x slower: the fastest kernels, and lengths that cross piece boundaries
		variants, threadCounts, lengths = variants[len(variants)-1:], []int{2}, []int{66, 131, 210}
	}
	for _, quant := range []string{"", "q8", "q4"} {
		m := randomModel(cfg, quant, 9)
		for _, v := range variants {
			for _, threads := range threadCounts {
				t.Run(fmt.Sprintf("%s/%s/threads=%d", quant, v, threads), func(t *testing.T) {
					useVariant(t, v)
					m.pool.threads = threads
					for _, n := range lengths {
						whole, pieces := m.freshState(n+1), m.freshState(n+1)
						a, err := whole.forwardPiece(context.Background(), prompt[:n], false, true)
						if err != nil {
							t.Fatal(err)
						}
						b, err := pieces.forward(context.Background(), prompt[:n], false)
						if err != nil {
							t.Fatal(err)
						}
						if n > promptChunk+1 && pieces.cap > promptChunk+1 {
							t.Fatalf("%d tokens: scratch for %d tokens: not run in pieces", n, pieces.cap)
						}
						if !sameBits(a, b) {
							t.Fatalf("%d tokens: logits differ (relative %.3g)", n, relErr(a, b))
						}
						for li := range whole.k {
							if !sameBits(whole.k[li][:n*cfg.NEmbd], pieces.k[li][:n*cfg.NEmbd]) ||
								!sameBits(whole.v[li][:n*cfg.NEmbd], pieces.v[li][:n*cfg.NEmbd]) {
								t.Fatalf("%d tokens: layer %d: cache differs", n, li)
							}
						}
					}
				})
			}
		}
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestStepAllocs: a one-token step on one thread allocates nothing (its
// garbage stayed resident until the collector ran: 20 KB a token for
// 124M), for f32, q8 and q4.
func TestStepAllocs(t *testing.T) {
	if raceOn {
		t.Skip("the race detector allocates")
	}
	cfg := Config{NLayer: 2, NHead: 4, NEmbd: 128, NPositions: 64, VocabSize: 300,
		LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: 299}
	for _, quant := range []string{"", "q8", "q4"} {
		m := randomModel(cfg, quant, 3)
		m.pool.threads = 1
		s := m.newState(cfg.NPositions)
		if _, err := s.forward(context.Background(), []int{1, 2, 3, 4, 5}, false); err != nil {
			t.Fatal(err)
		}
		id := 6
		n := testing.AllocsPerRun(20, func() {
			if _, err := s.forward(context.Background(), []int{id}, false); err != nil {
				t.Fatal(err)
			}
			id++
		})
		if n != 0 {
			t.Errorf("%q: a one-token step allocates %.0f times", quant, n)
		}
	}
}
