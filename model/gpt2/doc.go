// Package gpt2 runs GPT-2 locally in pure Go.
//
// Load reads a Hugging Face GPT-2 folder (config.json + model.safetensors,
// F32, F16 or BF16; gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2 or any
// other config) and returns a *Model that implements model.Generator:
//
//	m, err := gpt2.Load(dir, gpt2.Options{Threads: 0, Quant: "q8"})
//	res, err := m.Generate(ctx, model.Request{Prompt: "Dear Sir,", MaxTokens: 50}, emit)
//
// The tokenizer is GPT-2's byte-level BPE: the checkpoint's own vocab.json
// and merges.txt when present (LoadTokenizer, implemented here), otherwise
// the embedded r50k_base encoding (BuiltinTokenizer, through
// github.com/tiktoken-go/tokenizer). Both give the same ids.
//
// Inference keeps a KV cache, runs the prompt as one batch (matrix-matrix)
// and then one token at a time. The kernels use AVX2/FMA assembly on amd64
// when the CPU has it and portable Go otherwise (UsePortable forces the
// portable kernels). Work is split over Options.Threads goroutines that wait
// on a sync.WaitGroup, never spinning; the default is the number of idle
// cores. Options.Quant "q8" stores the matrices as int8 with one float32
// scale per block of 32 weights.
package gpt2
