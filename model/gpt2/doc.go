// Package gpt2 runs GPT-2 locally in pure Go.
//
// Load reads a Hugging Face GPT-2 folder (config.json + model.safetensors,
// F32, F16 or BF16 tensors, names with or without the "transformer."
// prefix, lm_head tied to wte, attn.bias mask buffers ignored) of any size:
// gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2 (Configs) or another
// config.json. It returns a *Model that implements model.Generator:
//
//	m, err := gpt2.Load(dir, gpt2.Options{Threads: 0, Quant: "q8", Progress: func(done, total int64) {}})
//	res, err := m.Generate(ctx, model.Request{Prompt: "Dear Sir,", MaxTokens: 50}, emit)
//	ids := m.Tokenizer().Encode("text"); text := m.Tokenizer().Decode(ids)
//
// The safetensors header is checked against the file size, and every
// tensor's shape and dtype against config.json and the model's total
// memory need against the machine's (or cgroup's) memory, before anything
// is allocated from it; a truncated, corrupt or enormous file gives an
// error naming the file and the tensor. NaN or infinite weights are
// refused at load, and NaN or infinite logits end Generate with
// ErrBrokenWeights.
//
// The tokenizer is GPT-2's byte-level BPE (50257 tokens, "<|endoftext|>" =
// 50256): the checkpoint's own vocab.json and merges.txt when present
// (LoadTokenizer, implemented here: GPT-2's pre-tokenising regex, the
// byte-to-unicode map, merges by rank), otherwise the embedded r50k_base
// encoding (BuiltinTokenizer, through github.com/tiktoken-go/tokenizer).
// Both give the same ids; Decode(Encode(s)) == s for any string.
//
// Generate runs the prompt as one batch (matrix-matrix) into a KV cache,
// then one token at a time, sampling with temperature (0 = greedy), top-k,
// top-p, repetition penalty and a seed; it stops at MaxTokens, the context
// end, "<|endoftext|>", a stop string, ctx cancellation or an error from
// emit. MaxTokens 0 only tokenizes. GenerateBatch (model.BatchGenerator)
// does the same for many requests at once: every step decodes one token
// for all live sequences, reading the weights once for all of them, with
// results identical to Generate's, bit for bit.
//
// Float32 matrices are stored as groups of 4 rows interleaved in chunks of
// 16 columns, so that a product reads one sequential stream; the weights
// live in huge-page mappings outside the Go heap. Kernels use AVX2/FMA
// assembly on amd64 CPUs that have it (AVX-512 where present; the q4 one
// AVX-512 VNNI, or AVX2 with F16C), portable Go elsewhere
// (or under the purego build tag, or with ForcePortable). Each step is
// split over Options.Threads goroutines (default PhysicalCores()) that take
// pieces of work in turn: the caller and helper goroutines kept parked on
// a channel between steps (the caller yields after waking them, so that
// they start at once); the caller waits on a sync.WaitGroup: nothing
// spins. A generated token takes two parallel steps per layer (per head:
// q/k/v, attention and its share of the output projection; per slice of
// the MLP: fc, activation and its share of fc2) and one for the logits.
// Options.Quant "q8" stores the weight matrices as int8 with one float16
// scale per 32 weights of a row (8.25 bits a weight: about 3.9x less
// memory and memory traffic); "q4" as 4-bit codes with one float16 scale
// per 32 (4.5 bits a weight, ggml's q4_0 layout of a block, the scale
// chosen by a small least-squares search; wte too), multiplied with the
// input quantised to int8 per 32 by AVX-512 VNNI (VPDPBUSD) or AVX2
// (VPMADDUBSW) kernels; the prompt path dequantises tiles of rows to
// float32. README.md has the quality and speed figures.
//
// The first load of a checkpoint writes the weights as the kernels read
// them (transposed, in panels, quantised) to one file in the cache folder
// (CacheDir: $DESKBOT_CACHE or the user cache folder; Options.CacheDir,
// Options.NoCache), keyed by a hash of model.safetensors' bytes, the
// quantisation, the config and the layout; it converts tensor by tensor,
// reusing its buffers. Every load then maps that file read-only, checks
// it, and copies the weights into huge pages, unless they stay mapped:
// with Options.MapWeights, and for q8 and q4 where the kernel maps the file
// in huge pages (Linux with large folios; Model.WeightsMapped). A second
// load only hashes the checkpoint, checks the file's checksums and copies
// or maps. A damaged or stale file is rebuilt;
// without a writable cache folder the weights are converted in memory
// (Model.Cache says which). Close frees them.
//
// A GPU backend can implement model.Generator beside this package; the
// CPU-specific parts are the matrix type and the kernels.
package gpt2
