package gpt2

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskbot/model"
)

// weightsOf lists a model's matrices and vectors by name.
func weightsOf(m *Model) (map[string]*matrix, map[string][]float32) {
	mats := map[string]*matrix{"wte": &m.wte}
	vecs := map[string][]float32{"wpe": m.wpe, "lnfg": m.lnfg, "lnfb": m.lnfb}
	for i := range m.layers {
		ly := &m.layers[i]
		p := fmt.Sprintf("h%d.", i)
		mats[p+"attn"], mats[p+"proj"], mats[p+"fc"], mats[p+"fc2"] = &ly.attn, &ly.proj, &ly.fc, &ly.fc2
		for n, v := range map[string][]float32{"ln1g": ly.ln1g, "ln1b": ly.ln1b, "ln2g": ly.ln2g, "ln2b": ly.ln2b,
			"attnB": ly.attnB, "projB": ly.projB, "fcB": ly.fcB, "fc2B": ly.fc2B} {
			vecs[p+n] = v
		}
	}
	return mats, vecs
}

// sameWeights fails unless a and b hold bit-identical weights.
func sameWeights(t *testing.T, what string, a, b *Model) {
	t.Helper()
	ma, va := weightsOf(a)
	mb, vb := weightsOf(b)
	if len(ma) != len(mb) || len(va) != len(vb) {
		t.Fatalf("%s: %d/%d matrices, %d/%d vectors", what, len(ma), len(mb), len(va), len(vb))
	}
	for n, x := range ma {
		y := mb[n]
		xf, xq, xs := x.sections()
		yf, yq, ys := y.sections()
		if x.rows != y.rows || x.cols != y.cols || x.pw != y.pw || x.nblk != y.nblk || x.qbits != y.qbits ||
			math.Float32bits(x.smul) != math.Float32bits(y.smul) || !bytes.Equal(xf, yf) || !bytes.Equal(xq, yq) || !bytes.Equal(xs, ys) {
			t.Errorf("%s: matrix %s differs", what, n)
		}
		if len(xf)+len(xq) == 0 {
			t.Errorf("%s: matrix %s is empty", what, n)
		}
	}
	for n, x := range va {
		if !bytes.Equal(asBytes(x), asBytes(vb[n])) || len(x) == 0 {
			t.Errorf("%s: vector %s differs", what, n)
		}
	}
}

func greedy(t *testing.T, m *Model) []int {
	t.Helper()
	res, err := m.Generate(context.Background(), model.Request{PromptIDs: []int{5, 9, 2, 7}, MaxTokens: 12, IgnoreEOS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.IDs
}

func loadState(t *testing.T, dir string, opts Options, want string) *Model {
	t.Helper()
	m, err := Load(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if st, note := m.Cache(); st != want {
		t.Fatalf("cache %q (%s), want %q", st, note, want)
	}
	return m
}

// A cache hit maps exactly the weights a fresh conversion gives, and
// generates the same tokens; a miss writes the file, a hit only maps it.
func TestCacheHitIdentical(t *testing.T) {
	for _, name := range []string{"tiny-f32", "tiny-f16"} {
		for _, quant := range append([]string{""}, QuantModes...) {
			t.Run(name+"/"+quant, func(t *testing.T) {
				dir := filepath.Join("testdata", name)
				cache := t.TempDir()
				opts := Options{Threads: 2, Quant: quant, CacheDir: cache}
				fresh := loadState(t, dir, Options{Threads: 2, Quant: quant, NoCache: true}, "off")
				miss := loadState(t, dir, opts, "miss")
				files, _ := filepath.Glob(filepath.Join(cache, "*"))
				if len(files) != 1 || !strings.HasSuffix(files[0], cacheSuffix) {
					t.Fatalf("cache folder holds %v", files)
				}
				hit := loadState(t, dir, opts, "hit")
				if hit.cache != nil || miss.cache != nil || fresh.cache != nil {
					t.Fatal("weights this small (no huge page) are copied out of the mapped file")
				}
				mopts := opts
				mopts.MapWeights = true
				mapped := loadState(t, dir, mopts, "hit")
				if mapped.cache == nil {
					t.Fatal("MapWeights: the weights must stay mapped")
				}
				// a position table this small stays among the others, mapped
				// (TestCachePositionsRead: a large one)
				if mapped.wpeLazy {
					t.Fatal("mapped: a small position table is read from the file")
				}
				sameWeights(t, "mapped", fresh, mapped)
				if got, want := greedy(t, mapped), greedy(t, fresh); !slices.Equal(got, want) {
					t.Errorf("mapped generates %v, fresh %v", got, want)
				}
				sameWeights(t, "miss", fresh, miss)
				sameWeights(t, "hit", fresh, hit)
				want := greedy(t, fresh)
				if got := greedy(t, hit); !slices.Equal(got, want) {
					t.Errorf("hit generates %v, fresh %v", got, want)
				}
				if got := greedy(t, miss); !slices.Equal(got, want) {
					t.Errorf("miss generates %v, fresh %v", got, want)
				}
			})
		}
	}
}

// Where the kernel maps the cache file in huge pages, q8 and q4 weights
// stay mapped: the load that wrote the file reads it into the page cache
// again in huge folios, the next load finds them so, and both generate
// what the weights converted in memory do. f32 weights are copied. Skipped
// where a file just read through a huge-page mapping is not mapped in huge
// pages (kernels before large folios, some file systems).
func TestCacheHugeMapped(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 30 MB checkpoints")
	}
	cache := t.TempDir()
	if !hugeFiles(cache) {
		t.Skip("files read through a huge-page mapping are not mapped in huge pages here")
	}
	if b, err := os.ReadFile(filepath.Join(cache, hugeProbeName)); err != nil || !strings.HasSuffix(string(b), " yes\n") {
		t.Errorf("the probe's answer is not kept: %q, %v", b, err)
	}
	dir := t.TempDir()
	cfg := Config{NLayer: 4, NHead: 12, NEmbd: 768, NPositions: 256, VocabSize: 8192, LayerNormEpsilon: 1e-5,
		Activation: "gelu_new", EOSTokenID: 8191}
	if err := writeCheckpoint(dir, cfg); err != nil {
		t.Fatal(err)
	}
	for _, quant := range append([]string{""}, QuantModes...) {
		t.Run("quant="+quant, func(t *testing.T) {
			opts := Options{Threads: 2, Quant: quant, CacheDir: cache}
			want := greedy(t, loadState(t, dir, Options{Threads: 2, Quant: quant, NoCache: true}, "off"))
			for _, st := range []string{"miss", "hit", "hit"} {
				m := loadState(t, dir, opts, st)
				if mapped := m.cache != nil; mapped != (quant != "") {
					t.Errorf("%s: weights mapped %v (%.0f %% of the file in huge pages)", st, mapped, 100*mappedHugeOf(m))
				}
				if got := greedy(t, m); !slices.Equal(got, want) {
					t.Errorf("%s generates %v, in memory %v", st, got, want)
				}
				// The position table (the file's first 2 MB) is not mapped
				// in: of its 256 rows, the 64 the generation needed were
				// read from the file.
				if m.cache != nil {
					head := m.cache.data[:4*cfg.NPositions*cfg.NEmbd]
					if n := residentPages(head); n != 0 {
						t.Errorf("%s: %d pages of the position table are mapped in", st, n)
					}
					if len(m.wpe) != 64*cfg.NEmbd {
						t.Errorf("%s: %d rows of the position table read", st, len(m.wpe)/cfg.NEmbd)
					}
				}
				m.Close()
				if st == "miss" {
					// the next load finds the file in the page cache in
					// small folios, as read() leaves it
					smallFolios(t, cache)
				}
			}
		})
	}
}

// smallFolios drops the cache files in dir from the page cache and reads
// them back with read() a page at a time, without read-ahead.
func smallFolios(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"+cacheSuffix))
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		dropAndReadSmall(f)
		f.Close()
	}
}

func mappedHugeOf(m *Model) float64 {
	if m.cache == nil {
		return 0
	}
	return mappedHuge(m.cache.data)
}

// Close unmaps the file; Generate then errors instead of reading freed
// memory.
func TestCacheClose(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	opts := Options{Threads: 1, CacheDir: t.TempDir()}
	loadState(t, dir, opts, "miss")
	m := loadState(t, dir, opts, "hit")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(context.Background(), model.Request{PromptIDs: []int{1}, MaxTokens: 2}, nil); err != errClosed {
		t.Fatalf("Generate after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestCachePositionsRead: a position table of minHead or more is written
// at the start of the cache file, and with the weights mapped it is read
// from the file as generations need it (64 rows at a time, at least
// doubling), giving what a conversion in memory gives.
func TestCachePositionsRead(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{NLayer: 1, NHead: 2, NEmbd: 64, NPositions: minHead / (4 * 64), VocabSize: 300, LayerNormEpsilon: 1e-5,
		Activation: "gelu_new", EOSTokenID: 299}
	if err := writeCheckpoint(dir, cfg); err != nil {
		t.Fatal(err)
	}
	for _, quant := range append([]string{""}, QuantModes...) {
		t.Run("quant="+quant, func(t *testing.T) {
			cache := t.TempDir()
			fresh := loadState(t, dir, Options{Threads: 2, Quant: quant, NoCache: true}, "off")
			loadState(t, dir, Options{Threads: 2, Quant: quant, CacheDir: cache}, "miss")
			m := loadState(t, dir, Options{Threads: 2, Quant: quant, CacheDir: cache, MapWeights: true}, "hit")
			if t0 := m.cache.byName[headVector]; t0 == nil || t0.F.Off != 0 {
				t.Fatalf("the position table is not at the start of the file: %+v", t0)
			}
			if !m.wpeLazy || len(m.wpe) != 0 {
				t.Fatalf("the position table holds %d values before any generation", len(m.wpe))
			}
			E := cfg.NEmbd
			for _, c := range []struct{ prompt, tokens, rows int }{{4, 12, 64}, {100, 30, 192}, {10, 5, 192}} {
				ids := make([]int, c.prompt)
				for i := range ids {
					ids[i] = (i*37 + 5) % cfg.VocabSize
				}
				req := model.Request{PromptIDs: ids, MaxTokens: c.tokens, IgnoreEOS: true}
				a, err := m.Generate(context.Background(), req, nil)
				if err != nil {
					t.Fatal(err)
				}
				b, err := fresh.Generate(context.Background(), req, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.IDs, b.IDs) {
					t.Errorf("%d+%d positions: mapped generates %v, in memory %v", c.prompt, c.tokens, a.IDs, b.IDs)
				}
				if len(m.wpe) != c.rows*E {
					t.Errorf("after %d+%d positions: %d rows read, want %d", c.prompt, c.tokens, len(m.wpe)/E, c.rows)
				}
			}
			m.positions(cfg.NPositions)
			sameWeights(t, "mapped", fresh, m)
		})
	}
}

// The same path with new bytes is another checkpoint: a miss, and the new
// weights.
func TestCacheChangedCheckpoint(t *testing.T) {
	dir := patchedCheckpoint(t, "transformer.h.0.mlp.c_fc.weight", func(_ int, v float32) float32 { return v })
	cache := t.TempDir()
	opts := Options{Threads: 1, CacheDir: cache}
	before := loadState(t, dir, opts, "miss")
	loadState(t, dir, opts, "hit")
	changed := patchedCheckpoint(t, "transformer.h.0.mlp.c_fc.weight", func(_ int, v float32) float32 { return v * 1.5 })
	b, err := os.ReadFile(filepath.Join(changed, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	after := loadState(t, dir, opts, "miss")
	sameWeights(t, "changed checkpoint", loadState(t, dir, Options{Threads: 1, NoCache: true}, "off"), after)
	if bytes.Equal(asBytes(before.layers[0].fc.f), asBytes(after.layers[0].fc.f)) {
		t.Error("the changed weights were not loaded")
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "*"+cacheSuffix)); len(files) != 2 {
		t.Errorf("cache files %v, want one per checkpoint", files)
	}
}

// Damaged cache files are detected and rebuilt, and the model is the
// same as a fresh conversion.
func TestCacheCorruptRebuilt(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	fresh := loadState(t, dir, Options{Threads: 1, Quant: "q8", NoCache: true}, "off")
	want := greedy(t, fresh)
	damage := map[string]func(b []byte) []byte{
		"empty":          func(b []byte) []byte { return nil },
		"a few bytes":    func(b []byte) []byte { return b[:10] },
		"half":           func(b []byte) []byte { return b[:len(b)/2] },
		"trailer cut":    func(b []byte) []byte { return b[:len(b)-1] },
		"data byte":      func(b []byte) []byte { b[100] ^= 0x40; return b },
		"last data byte": func(b []byte) []byte { b[trailerOf(b).hoff-1] ^= 1; return b },
		"header byte":    func(b []byte) []byte { b[trailerOf(b).hoff+5] ^= 1; return b },
		"version":        func(b []byte) []byte { b[len(b)-12]++; return b },
		"magic":          func(b []byte) []byte { b[len(b)-1] = 'x'; return b },
		"header length":  func(b []byte) []byte { binary.LittleEndian.PutUint64(b[len(b)-24:], 1<<62); return b },
		"garbage":        func(b []byte) []byte { return bytes.Repeat([]byte("garbage!"), len(b)/8) },
	}
	for what, f := range damage {
		t.Run(what, func(t *testing.T) {
			cache := t.TempDir()
			opts := Options{Threads: 1, Quant: "q8", CacheDir: cache}
			loadState(t, dir, opts, "miss").Close()
			files, _ := filepath.Glob(filepath.Join(cache, "*"+cacheSuffix))
			if len(files) != 1 {
				t.Fatal(files)
			}
			b, _ := os.ReadFile(files[0])
			if err := os.WriteFile(files[0], f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			m := loadState(t, dir, opts, "miss")
			if _, note := m.Cache(); !strings.Contains(note, "rebuilt the cache") {
				t.Errorf("note %q", note)
			}
			sameWeights(t, what, fresh, m)
			if got := greedy(t, m); !slices.Equal(got, want) {
				t.Errorf("generates %v, want %v", got, want)
			}
			loadState(t, dir, opts, "hit")
		})
	}
}

type trailer struct{ hoff, hlen int }

func trailerOf(b []byte) trailer {
	tr := b[len(b)-trailerLen:]
	return trailer{int(binary.LittleEndian.Uint64(tr)), int(binary.LittleEndian.Uint64(tr[8:]))}
}

// A cache folder that cannot be made: the model loads in memory and says
// why; nothing is written.
func TestCacheUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	os.WriteFile(file, nil, 0o644)
	m := loadState(t, filepath.Join("testdata", "tiny-f32"), Options{Threads: 1, CacheDir: filepath.Join(file, "cache")}, "off")
	if _, note := m.Cache(); !strings.Contains(note, "not-a-folder") || !strings.Contains(note, "kept in memory") {
		t.Errorf("note %q", note)
	}
	if len(greedy(t, m)) != 12 {
		t.Error("no tokens")
	}
	t.Setenv(cacheEnvName, "off")
	m = loadState(t, filepath.Join("testdata", "tiny-f32"), Options{Threads: 1}, "off")
	if _, note := m.Cache(); note != "" {
		t.Errorf("cache turned off: note %q", note)
	}
}

// storage must say what conversion stores, for every quantisation: the
// reader trusts no other size.
func TestCacheStorage(t *testing.T) {
	for _, quant := range append([]string{""}, QuantModes...) {
		for _, sh := range [][3]int{{7, 3*qblock + 5, 2 * qblock}, {8, 64, 0}, {1, 1, 0}, {13, 200, qblock}} {
			w := make([]float32, sh[0]*sh[1])
			for i := range w {
				w[i] = float32(i%17) - 8
			}
			m := matrix{rows: sh[0], cols: sh[1], pw: sh[2]}
			m.convert(w, quant)
			nf, nq, ns, ok := m.storage()
			if !ok || nf != len(m.f) || nq != len(m.q) || ns != len(m.s) {
				t.Errorf("quant %q shape %v: storage %d/%d/%d %v, conversion %d/%d/%d", quant, sh, nf, nq, ns, ok, len(m.f), len(m.q), len(m.s))
			}
		}
	}
	if layoutPrint("") == layoutPrint("q8") {
		t.Error("f32 and q8 layouts print the same")
	}
}

func TestClearCache(t *testing.T) {
	cache := t.TempDir()
	loadState(t, filepath.Join("testdata", "tiny-f32"), Options{Threads: 1, CacheDir: cache}, "miss")
	os.WriteFile(filepath.Join(cache, "keep.txt"), []byte("x"), 0o644)
	n, size, err := ClearCache(cache)
	if err != nil || n != 1 || size < 1000 {
		t.Fatalf("ClearCache: %d files, %d bytes, %v", n, size, err)
	}
	if _, err := os.Stat(filepath.Join(cache, "keep.txt")); err != nil {
		t.Error("removed a file that is not the cache's")
	}
	loadState(t, filepath.Join("testdata", "tiny-f32"), Options{Threads: 1, CacheDir: cache}, "miss")
}

// Two processes loading one checkpoint at once, with no cache yet: both
// load (neither sees the other's half-written file: no "rebuilt" note),
// generate the same tokens, and a later load hits.
func TestCacheTwoProcesses(t *testing.T) {
	ckpt := t.TempDir()
	// large enough that writing the cache takes a while (~20 MB in f32)
	if err := writeCheckpoint(ckpt, Config{NLayer: 4, NHead: 4, NEmbd: 256, NPositions: 64, VocabSize: 8000, LayerNormEpsilon: 1e-5}); err != nil {
		t.Fatal(err)
	}
	for _, quant := range []string{"", "q8"} {
		for round := 0; round < 2; round++ {
			cache := t.TempDir()
			start := filepath.Join(t.TempDir(), "go")
			var wg sync.WaitGroup
			outs := make([][]byte, 2)
			errs := make([]error, 2)
			for i := range outs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := exec.Command(os.Args[0], "-test.run=^TestCacheChild$", "-test.count=1")
					cmd.Env = append(os.Environ(), "GPT2_CACHE_CHILD="+ckpt, "GPT2_CACHE_QUANT="+quant, "GPT2_CACHE_START="+start, cacheEnvName+"="+cache)
					outs[i], errs[i] = cmd.CombinedOutput()
				}()
			}
			time.Sleep(300 * time.Millisecond) // both waiting on the start file
			os.WriteFile(start, nil, 0o644)
			t0 := time.Now()
			wg.Wait()
			t.Logf("children took %v", time.Since(t0))
			var results []childResult
			for i := range outs {
				if errs[i] != nil {
					t.Fatalf("child %d: %v\n%s", i, errs[i], outs[i])
				}
				var r childResult
				line := outs[i][bytes.Index(outs[i], []byte("RESULT ")):]
				line = line[len("RESULT "):bytes.IndexByte(line, '\n')]
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatalf("child %d: %v\n%s", i, err, outs[i])
				}
				if r.Note != "" || (r.State != "miss" && r.State != "hit") {
					t.Errorf("quant %q round %d child %d: cache %s, note %q", quant, round, i, r.State, r.Note)
				}
				results = append(results, r)
			}
			t.Logf("quant %q round %d: %s, %s", quant, round, results[0].State, results[1].State)
			if !slices.Equal(results[0].IDs, results[1].IDs) || len(results[0].IDs) != 8 {
				t.Errorf("children generated %v and %v", results[0].IDs, results[1].IDs)
			}
			files, _ := os.ReadDir(cache)
			if len(files) != 1 || !strings.HasSuffix(files[0].Name(), cacheSuffix) {
				t.Errorf("cache folder: %v", files)
			}
			m := loadState(t, ckpt, Options{Threads: 1, Quant: quant, CacheDir: cache}, "hit")
			if got := greedyN(t, m, 8); !slices.Equal(got, results[0].IDs) {
				t.Errorf("hit in this process: %v, children %v", got, results[0].IDs)
			}
		}
	}
}

type childResult struct {
	State, Note string
	IDs         []int
}

func greedyN(t *testing.T, m *Model, n int) []int {
	res, err := m.Generate(context.Background(), model.Request{PromptIDs: []int{5, 9, 2, 7}, MaxTokens: n, IgnoreEOS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.IDs
}

// TestCacheChild is TestCacheTwoProcesses' child process.
func TestCacheChild(t *testing.T) {
	ckpt := os.Getenv("GPT2_CACHE_CHILD")
	if ckpt == "" {
		t.Skip("run by TestCacheTwoProcesses")
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(os.Getenv("GPT2_CACHE_START")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no start")
		}
	}
	m, err := Load(ckpt, Options{Threads: 1, Quant: os.Getenv("GPT2_CACHE_QUANT")})
	if err != nil {
		t.Fatal(err)
	}
	st, note := m.Cache()
	b, _ := json.Marshal(childResult{State: st, Note: note, IDs: greedyN(t, m, 8)})
	fmt.Printf("RESULT %s\n", b)
}

// FuzzCacheHeader writes cache files whose header is the fuzzer's (with a
// right checksum, so the checks behind it run) after tiny-f32's q8
// sections: Load must rebuild or use the file, never panic, and a model
// that loads must generate (or end with ErrBrokenWeights).
func FuzzCacheHeader(f *testing.F) {
	dir := filepath.Join("testdata", "tiny-f32")
	cache := f.TempDir()
	m, err := Load(dir, Options{Threads: 1, Quant: "q8", CacheDir: cache})
	if err != nil {
		f.Fatal(err)
	}
	m.Close()
	files, _ := filepath.Glob(filepath.Join(cache, "*"+cacheSuffix))
	if len(files) != 1 {
		f.Fatal(files)
	}
	orig, err := os.ReadFile(files[0])
	if err != nil {
		f.Fatal(err)
	}
	tr := trailerOf(orig)
	data, header := orig[:tr.hoff], orig[tr.hoff:tr.hoff+tr.hlen]
	f.Add(header)
	f.Add(bytes.Replace(header, []byte(`"len":`), []byte(`"len":1`), 3))
	f.Add(bytes.Replace(header, []byte(`"off":`), []byte(`"off":-`), 5))
	f.Add(bytes.Replace(header, []byte(`"qbits":8`), []byte(`"qbits":0`), 1))
	f.Add(bytes.Replace(header, []byte(`"rows":`), []byte(`"rows":9`), 1))
	f.Fuzz(func(t *testing.T, h []byte) {
		file := append(append([]byte(nil), data...), h...)
		var tb [trailerLen]byte
		binary.LittleEndian.PutUint64(tb[0:], uint64(len(data)))
		binary.LittleEndian.PutUint64(tb[8:], uint64(len(h)))
		binary.LittleEndian.PutUint32(tb[16:], crc32.Checksum(h, castagnoli))
		binary.LittleEndian.PutUint32(tb[20:], cacheVersion)
		copy(tb[24:], cacheMagic)
		file = append(file, tb[:]...)
		if err := os.WriteFile(files[0], file, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(dir, Options{Threads: 1, Quant: "q8", CacheDir: cache})
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		defer m.Close()
		// A header may scale the weights (smul) into infinite logits:
		// an error, not a crash.
		if _, err := m.Generate(context.Background(), model.Request{PromptIDs: []int{1, 2}, MaxTokens: 3}, nil); err != nil && !errors.Is(err, ErrBrokenWeights) {
			t.Fatalf("generate: %v", err)
		}
	})
}

// TestCacheSuperseded: writing a cache file removes the files of the same
// checkpoint and quantisation under another key (an older layout or
// version), and no other file: other checkpoints', other quantisations',
// one being written.
func TestCacheSuperseded(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-f32")
	cache := t.TempDir()
	opts := Options{Threads: 1, Quant: "q8", CacheDir: cache}
	loadState(t, dir, opts, "miss")
	files, _ := filepath.Glob(filepath.Join(cache, "*"+cacheSuffix))
	if len(files) != 1 {
		t.Fatalf("cache folder holds %v", files)
	}
	name := filepath.Base(files[0])
	i := strings.LastIndexByte(strings.TrimSuffix(name, cacheSuffix), '-')
	prefix := name[:i+1] // <hash>-<size>-q8-
	old := prefix + "0123456789abcdef" + cacheSuffix
	keep := []string{
		strings.Replace(prefix, "-q8-", "-q4-", 1) + "0123456789abcdef" + cacheSuffix, // another quantisation
		"0000" + prefix[4:] + "0123456789abcdef" + cacheSuffix,                        // another checkpoint
		old + ".tmp-123", // being written
	}
	for _, n := range append([]string{old}, keep...) {
		if err := os.WriteFile(filepath.Join(cache, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(files[0]) // the next load writes it again
	loadState(t, dir, opts, "miss")
	if _, err := os.Stat(filepath.Join(cache, old)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the superseded file %s is still there (%v)", old, err)
	}
	for _, n := range append(keep, name) {
		if _, err := os.Stat(filepath.Join(cache, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}
