package gpt2

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config is a GPT-2 architecture, as in a Hugging Face config.json.
type Config struct {
	NLayer           int     `json:"n_layer"`
	NHead            int     `json:"n_head"`
	NEmbd            int     `json:"n_embd"`
	NInner           int     `json:"n_inner"` // 0 = 4*NEmbd
	NPositions       int     `json:"n_positions"`
	VocabSize        int     `json:"vocab_size"`
	LayerNormEpsilon float64 `json:"layer_norm_epsilon"`
	// Activation is "gelu_new" (GPT-2's tanh approximation, the default),
	// "gelu_pytorch_tanh" (the same), "gelu" (exact, erf) or "relu".
	Activation string `json:"activation_function"`
	// ScaleAttnByInverseLayerIdx divides attention scores by layer index+1.
	ScaleAttnByInverseLayerIdx bool `json:"scale_attn_by_inverse_layer_idx"`
	EOSTokenID                 int  `json:"eos_token_id"`
}

// Configs are the published GPT-2 sizes.
var Configs = map[string]Config{
	"gpt2":        {NLayer: 12, NHead: 12, NEmbd: 768, NPositions: 1024, VocabSize: 50257, LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: EndOfTextID},
	"gpt2-medium": {NLayer: 24, NHead: 16, NEmbd: 1024, NPositions: 1024, VocabSize: 50257, LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: EndOfTextID},
	"gpt2-large":  {NLayer: 36, NHead: 20, NEmbd: 1280, NPositions: 1024, VocabSize: 50257, LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: EndOfTextID},
	"gpt2-xl":     {NLayer: 48, NHead: 25, NEmbd: 1600, NPositions: 1024, VocabSize: 50257, LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: EndOfTextID},
	"distilgpt2":  {NLayer: 6, NHead: 12, NEmbd: 768, NPositions: 1024, VocabSize: 50257, LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: EndOfTextID},
}

func (c Config) inner() int {
	if c.NInner > 0 {
		return c.NInner
	}
	return 4 * c.NEmbd
}

// mlpSlice is the width of the MLP's hidden slices in a one-token step (a
// multiple of qblock; the last slice may be narrower) and their number.
func (c Config) mlpSlice() (width, n int) {
	F := c.inner()
	fb := (F + qblock - 1) / qblock
	n = min(8, fb)
	width = (fb + n - 1) / n * qblock
	return width, (F + width - 1) / width
}

// fuseProj says whether a one-token step computes the attention output
// projection per head (split-K): a q8 head must fill whole blocks.
func (c Config) fuseProj(q8 bool) bool {
	return !q8 || (c.NEmbd/c.NHead)%qblock == 0
}

// panels are the panel widths (see matrix.pw) of c_proj and mlp.c_proj:
// the column slices that one-token steps read per head and per hidden
// slice.
func (c Config) panels(q8 bool) (proj, fc2 int) {
	if c.fuseProj(q8) {
		proj = c.NEmbd / c.NHead
	}
	fc2, _ = c.mlpSlice()
	return proj, fc2
}

// Params is the number of weights (wte counted once: lm_head is tied).
func (c Config) Params() int64 {
	e, f := int64(c.NEmbd), int64(c.inner())
	per := 4*e + (3*e*e + 3*e) + (e*e + e) + (e*f + f) + (f*e + e)
	return int64(c.VocabSize)*e + int64(c.NPositions)*e + int64(c.NLayer)*per + 2*e
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (Config, error) {
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return Config{}, fmt.Errorf("gpt2: read config: %w", err)
	}
	c := Config{LayerNormEpsilon: 1e-5, Activation: "gelu_new", EOSTokenID: EndOfTextID}
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("gpt2: parse %s: %w", p, err)
	}
	var extra struct {
		NCtx      int    `json:"n_ctx"`
		ModelType string `json:"model_type"`
	}
	if err := json.Unmarshal(b, &extra); err == nil {
		if c.NPositions == 0 {
			c.NPositions = extra.NCtx
		}
		if extra.ModelType != "" && extra.ModelType != "gpt2" {
			return Config{}, fmt.Errorf("gpt2: %s: model_type %q is not gpt2", p, extra.ModelType)
		}
	}
	if err := c.validate(); err != nil {
		return Config{}, fmt.Errorf("gpt2: %s: %w", p, err)
	}
	return c, nil
}

func (c Config) validate() error {
	switch {
	case c.NLayer <= 0 || c.NLayer > 1000:
		return fmt.Errorf("n_layer %d out of range", c.NLayer)
	case c.NHead <= 0 || c.NEmbd <= 0 || c.NEmbd%c.NHead != 0 || c.NEmbd > 1<<16:
		return fmt.Errorf("n_embd %d must be a positive multiple of n_head %d", c.NEmbd, c.NHead)
	case c.NPositions <= 0 || c.NPositions > 1<<20:
		return fmt.Errorf("n_positions %d out of range", c.NPositions)
	case c.VocabSize <= 0 || c.VocabSize > 1<<22:
		return fmt.Errorf("vocab_size %d out of range", c.VocabSize)
	case c.NInner < 0 || c.NInner > 1<<18:
		return fmt.Errorf("n_inner %d out of range", c.NInner)
	case !(c.LayerNormEpsilon > 0):
		return fmt.Errorf("layer_norm_epsilon %g must be positive", c.LayerNormEpsilon)
	}
	switch c.Activation {
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu":
	default:
		return fmt.Errorf("activation_function %q is not supported", c.Activation)
	}
	return nil
}

// Options tune Load.
type Options struct {
	// Threads for the kernels; 0 = PhysicalCores(). Helpers wait on
	// channels between steps: nothing spins.
	Threads int
	// Quant is "" (float32 weights), "q8" (int8 weights, one float16
	// scale per block of 32 along each row, times a power of two per
	// matrix) or "q4" (4-bit weights, the same scales: see quantize4).
	Quant string
	// Progress, when set, is called as the weights load with bytes read so
	// far and the total.
	Progress func(done, total int64)
	// Tokenizer overrides the checkpoint's vocab.json/merges.txt (or the
	// built-in r50k_base when the folder has none).
	Tokenizer Tokenizer
	// Name for Generator.Name; default: the folder's base name.
	Name string
	// CacheDir keeps the converted weights (see CacheDir()); "" = CacheDir().
	CacheDir string
	// NoCache converts the checkpoint in memory and writes no cache file.
	NoCache bool
	// MapWeights keeps the weights mapped from the cache file (shared with
	// other processes that map it) instead of copying them into huge pages
	// after the mapped file is checked. q8 and q4 weights stay mapped
	// anyway where the kernel maps the file in huge pages (see
	// WeightsMapped).
	MapWeights bool
}

// matrix is a weight matrix laid out [out][in] row-major: each output is
// the dot product of one row with the input.
type matrix struct {
	rows, cols int
	f          []float32 // rows*cols, when not quantised
	q          []int8    // rows*cols, q8
	s          []uint16  // rows*nblk scales, q8: float16 bits, times 2^e
	smul       float32   // 2^-e: the scales' common factor, q8
	nblk       int
	qbits      int    // quantised: 8 (q8) or 4 (q4, see quantize4); 0 = float32 in f
	mem        *arena // where the weights are allocated (nil: the Go heap)
	// pw > 0 stores the columns in panels pw wide (a multiple of qblock):
	// panel after panel, each all rows of its columns (f32: row-major;
	// q8: groups of blocks as below). A product over one panel's columns
	// then reads one sequential stream. 0: one panel.
	pw int
}

// panel is the first column and the width of the panel holding column c.
func (m *matrix) panel(c int) (p0, w int) {
	if m.pw <= 0 || m.pw >= m.cols {
		return 0, m.cols
	}
	p0 = c / m.pw * m.pw
	return p0, min(m.pw, m.cols-p0)
}

// fchunk is the width of the column chunks of float32 weights (see setF).
const fchunk = 16

// setF stores the row-major w (rows x cols) as m.f: panel after panel
// (m.pw wide, see panel), each panel as groups of 4 rows, each group as
// chunks of fchunk columns holding the 4 rows' values side by side (row 0's
// 16 values, then row 1's, 2's, 3's: 256 bytes). A product of 4 rows with
// a vector then reads one sequential stream, as does a whole panel. Rows
// are padded to a multiple of 4 and columns to whole chunks with zeros.
func (m *matrix) setF(w []float32) {
	m.f = m.mem.f32(m.fsize())
	for p0 := 0; p0 < m.cols; {
		_, pw := m.panel(p0)
		nc := (pw + fchunk - 1) / fchunk
		base := m.fpanel(p0)
		for r := 0; r < m.rows; r++ {
			g, i := r/4, r%4
			row := w[r*m.cols+p0 : r*m.cols+p0+pw]
			for c := 0; c < nc; c++ {
				dst := m.f[base+(g*nc+c)*4*fchunk+i*fchunk:][:fchunk]
				copy(dst, row[c*fchunk:min((c+1)*fchunk, pw)])
			}
		}
		p0 += pw
	}
}

// fsize is the length of m.f for m's shape and panels.
func (m *matrix) fsize() int {
	n := 0
	for p0 := 0; p0 < m.cols; {
		_, pw := m.panel(p0)
		n += (m.rows + 3) / 4 * ((pw + fchunk - 1) / fchunk) * 4 * fchunk
		p0 += pw
	}
	return n
}

// fpanel is the offset in m.f of the panel starting at column p0.
func (m *matrix) fpanel(p0 int) int {
	if p0 == 0 {
		return 0
	}
	_, pw := m.panel(0) // every panel but the last is this wide
	return p0 / pw * ((m.rows + 3) / 4 * ((pw + fchunk - 1) / fchunk) * 4 * fchunk)
}

const qblock = 32

type layer struct {
	ln1g, ln1b, ln2g, ln2b  []float32
	attn, proj, fc, fc2     matrix
	attnB, projB, fcB, fc2B []float32
}

// Model is a loaded GPT-2. It implements model.Generator. Generate calls
// are serialised; a Model is safe to share between goroutines.
type Model struct {
	cfg    Config
	quant  string
	name   string
	tok    Tokenizer
	wte    matrix // vocab x embd: the embedding table and the tied lm_head
	wpe    []float32
	lnfg   []float32
	lnfb   []float32
	layers []layer
	pool   *pool
	mem    *arena // the weights' memory, freed by Close

	cache      *cacheReader // the mapped cache file the weights point into
	wpeLazy    bool         // wpe holds the first rows; the rest are read from cache.f (see positions)
	mapWeights bool         // keep the weights mapped from the cache file
	cacheState string       // "hit", "miss" (written now) or "off"
	cacheNote  string       // why the cache was off or rebuilt

	mu sync.Mutex

	// States of ended generations, for the next ones (see newState); mu
	// guards them. Dropped when no generation started for spareIdle.
	spare      []*state
	spareTimer *time.Timer
}

// QuantModes are the quantisations Load knows besides "" (float32).
var QuantModes = []string{"q8", "q4"}

// Threads is the number of goroutines a generation uses.
func (m *Model) Threads() int { return m.pool.size() }

// Config is the model's architecture.
func (m *Model) Config() Config { return m.cfg }

// Tokenizer is the model's tokenizer.
func (m *Model) Tokenizer() Tokenizer { return m.tok }

// Name says which model this is, e.g. "gpt2 (local)" or "gpt2 q8 (local)".
func (m *Model) Name() string { return m.name }

// Cache says how the weights were loaded: "hit" (mapped from the cache
// file), "miss" (converted and written to the cache, then mapped) or "off"
// (converted in memory: no cache folder, or it could not be written); and
// why it was off or rebuilt ("" when there is nothing to say).
func (m *Model) Cache() (state, note string) { return m.cacheState, m.cacheNote }

// WeightsMapped says whether the weights are read from the mapped cache
// file (Options.MapWeights, or q8 and q4 weights the kernel maps in huge
// pages) rather than copied into this process's memory.
func (m *Model) WeightsMapped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cache != nil
}

// Close releases the weights (and unmaps the cache file); Generate then
// returns an error.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.layers, m.wte, m.wpe, m.lnfg, m.lnfb = nil, matrix{}, nil, nil, nil
	m.spare = nil
	m.mem.free()
	m.mem = nil
	if m.cache != nil {
		err := m.cache.close()
		m.cache = nil
		return err
	}
	return nil
}

// Load reads a Hugging Face GPT-2 folder: config.json, model.safetensors
// and, when present, vocab.json + merges.txt.
func Load(dir string, opts Options) (*Model, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if opts.Quant != "" && !slices.Contains(QuantModes, opts.Quant) {
		return nil, fmt.Errorf("gpt2: unknown quantisation %q (want \"\" or one of %s)", opts.Quant, strings.Join(QuantModes, ", "))
	}
	tok := opts.Tokenizer
	if tok == nil {
		if _, err := os.Stat(filepath.Join(dir, "vocab.json")); err == nil {
			tok, err = LoadTokenizer(dir)
			if err != nil {
				return nil, err
			}
		} else {
			tok, err = BuiltinTokenizer()
			if err != nil {
				return nil, err
			}
		}
	}
	st, err := openSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	name := opts.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(dir))
	}
	if opts.Quant != "" {
		name += " " + opts.Quant
	}
	m := &Model{cfg: cfg, quant: opts.Quant, name: name + " (local)", tok: tok, mapWeights: opts.MapWeights}
	// First pass: every tensor is there with the shape config.json implies
	// and a float dtype, and the whole model fits this computer's memory,
	// before anything is allocated from a size the files give.
	plan := newLoader(st, opts)
	plan.plan = true
	m.readWeights(plan)
	if plan.err == nil {
		plan.checkUnused()
	}
	if plan.err == nil {
		plan.err = plan.checkMemory(cfg)
	}
	if plan.err != nil {
		return nil, plan.err
	}
	m.pool = newPool(opts.Threads)
	if err := m.loadCached(st, opts, plan.total); err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(plan.total, plan.total)
	}
	return m, nil
}

// loadCached maps the weights from the cache file for this checkpoint,
// writing it first when there is none (or it is damaged); without a usable
// cache folder it converts them in memory.
func (m *Model) loadCached(st *safetensorsFile, opts Options, total int64) error {
	dir, err := opts.CacheDir, error(nil)
	if dir == "" && !opts.NoCache {
		dir, err = CacheDir()
	}
	if opts.NoCache || dir == "" {
		m.cacheState = "off"
		if err != nil {
			m.cacheNote = err.Error()
		}
		return m.convertInMemory(st, opts, total)
	}
	hash, size, err := hashFile(st.f)
	if err != nil {
		return fmt.Errorf("gpt2: %s: %w", st.path, err)
	}
	key := &cacheKey{hash: hash, size: size, quant: opts.Quant, layout: layoutPrint(opts.Quant), cfg: m.cfg}
	path := filepath.Join(dir, key.fileName())
	r, err := openCache(path, key)
	if err == nil {
		if err = m.fromCache(r); err == nil {
			m.cacheState = "hit"
			return nil
		}
	}
	if !errors.Is(err, errCacheMissing) {
		m.cacheNote = fmt.Sprintf("rebuilt the cache: %v", err)
	}
	r, err = m.writeCache(st, opts, total, key, dir, path)
	if err == nil {
		if err = m.fromCache(r); err == nil {
			m.cacheState = "miss"
			removeSuperseded(dir, path)
			return nil
		}
	}
	if lerr := (*loadError)(nil); errors.As(err, &lerr) {
		return lerr.err // the checkpoint itself is at fault
	}
	m.cacheState, m.cacheNote = "off", fmt.Sprintf("cache %s unusable, weights kept in memory: %v", dir, err)
	return m.convertInMemory(st, opts, total)
}

// loadError is an error of the checkpoint, not of the cache.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }

// cacheWriteError is an error writing the cache file.
type cacheWriteError struct{ err error }

func (e *cacheWriteError) Error() string { return e.err.Error() }

func (m *Model) convertInMemory(st *safetensorsFile, opts Options, total int64) error {
	l := newLoader(st, opts)
	m.mem = &arena{}
	l.total, l.mem = total, m.mem
	m.readWeights(l)
	return l.err
}

// fromCache points the model's weights into the mapped file r (closed on
// error). Unless the weights are to stay mapped, the matrices are then
// copied into huge pages (see arena) and the file is unmapped.
func (m *Model) fromCache(r *cacheReader) error {
	l := newLoader(nil, Options{Quant: m.quant})
	l.cache = r
	m.readWeights(l)
	if l.err != nil {
		r.close()
		return l.err
	}
	// Quantised weights stay mapped when the kernel maps the file in huge
	// pages: they then stream 3-4 % slower than copied ones here (q8,
	// medians of 6 interleaved runs) and load in 150 ms instead of
	// 330-580 (medians). Float32 weights streamed 4-12 % slower mapped, so they are
	// copied (a second more to load).
	if m.mapWeights || m.quant != "" && r.huge() {
		m.cache = r
		// The position table, alone in its pages at the start of the file:
		// given back, and read as needed (positions).
		if t := r.byName[headVector]; t != nil && t.F.Off == 0 && t.F.Len > 0 {
			dropPages(r.data[:t.F.Len])
			m.wpe, m.wpeLazy = nil, true
		}
		return nil
	}
	// The check read every page. The small tensors are copied while
	// they are still mapped in: reading them later brings back whole
	// large folios of the page cache around each (measured: 65 MB for
	// q8's position table, biases and norms). Then every page is given
	// back and the matrices are copied piece by piece, giving back each
	// piece copied, so that the peak is the weights and a few MB, not the
	// weights twice. All of them go into one block of the arena (see
	// arena.reserve), out of the Go heap.
	var small []*[]float32
	small = append(small, &m.wpe, &m.lnfg, &m.lnfb)
	for i := range m.layers {
		ly := &m.layers[i]
		small = append(small, &ly.ln1g, &ly.ln1b, &ly.ln2g, &ly.ln2b, &ly.attnB, &ly.projB, &ly.fcB, &ly.fc2B)
	}
	size := 0
	for _, v := range small {
		size += (4*len(*v) + 63) &^ 63
	}
	m.eachMatrix(func(w *matrix) {
		for _, n := range []int{4 * len(w.f), len(w.q), 2 * len(w.s)} {
			size += (n + 63) &^ 63
		}
	})
	m.mem = &arena{}
	m.mem.reserve(size)
	for _, v := range small {
		c := m.mem.f32(len(*v))
		copy(c, *v)
		*v = c
	}
	dropPages(r.data)
	m.eachMatrix(func(w *matrix) {
		w.mem = m.mem
		if w.f != nil {
			f := m.mem.f32(len(w.f))
			copyDrop(asBytes(f), asBytes(w.f))
			w.f = f
		}
		if w.q != nil {
			q := m.mem.i8(len(w.q))
			copyDrop(asBytes(q), asBytes(w.q))
			w.q = q
		}
		if w.s != nil {
			sc := m.mem.u16(len(w.s))
			copyDrop(asBytes(sc), asBytes(w.s))
			w.s = sc
		}
	})
	return r.close()
}

// positions makes the position table hold rows [0, n) at least (m.mu
// held, or the model not yet shared). With the weights mapped the table is
// not read through the mapping (see headVector): its first rows are read
// from the file into the heap, in multiples of 64 and at least doubling
// (576 KB for a 32-token prompt and 128 tokens, against 3 MB for all).
func (m *Model) positions(n int) {
	E := m.cfg.NEmbd
	if !m.wpeLazy || m.cache == nil || len(m.wpe) >= n*E {
		return
	}
	rows := min(m.cfg.NPositions, (max(n, 2*len(m.wpe)/E)+63)&^63)
	b := make([]float32, rows*E)
	if _, err := m.cache.f.ReadAt(asBytes(b), 0); err != nil {
		// The same bytes through the mapping (checked at the load).
		copy(b, viewOf[float32](m.cache.data, cacheSection{Off: 0, Len: int64(len(b)) * 4}))
	}
	m.wpe = b
}

// copyDrop copies src (mapped) to dst 8 MiB at a time, giving back the
// pages of src copied.
func copyDrop(dst, src []byte) {
	const piece = 8 << 20
	for o := 0; o < len(src); o += piece {
		e := min(len(src), o+piece)
		copy(dst[o:e], src[o:e])
		dropPages(src[o:e])
	}
}

// eachMatrix calls fn on every weight matrix.
func (m *Model) eachMatrix(fn func(*matrix)) {
	fn(&m.wte)
	for i := range m.layers {
		ly := &m.layers[i]
		fn(&ly.attn)
		fn(&ly.proj)
		fn(&ly.fc)
		fn(&ly.fc2)
	}
}

// writeCache converts the checkpoint tensor by tensor into a new cache file
// (a temporary name, renamed to path when whole) and maps it.
func (m *Model) writeCache(st *safetensorsFile, opts Options, total int64, key *cacheKey, dir, path string) (*cacheReader, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	w := &cacheWriter{f: f, bw: bufio.NewWriterSize(f, 8<<20), hdr: cacheHeader{Version: cacheVersion, Checkpoint: key.hash,
		Size: key.size, Quant: key.quant, Layout: key.layout, Config: key.cfg, Source: st.path}}
	if n := 4 * int64(key.cfg.NPositions) * int64(key.cfg.NEmbd); n >= minHead {
		w.reserveHead(n)
	}
	l := newLoader(st, opts)
	l.total, l.out = total, w
	m.readWeights(l)
	l.raw, l.tr = nil, nil
	if l.err != nil {
		f.Close()
		if werr := (*cacheWriteError)(nil); errors.As(l.err, &werr) {
			return nil, fmt.Errorf("write %s: %w", tmp, werr.err)
		}
		return nil, &loadError{l.err}
	}
	if err := w.finish(); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp, err)
	}
	// The conversion's buffers go back to the system before the weights
	// are mapped: the peak is one of them, not both.
	debug.FreeOSMemory()
	if err := os.Rename(tmp, path); err != nil {
		// Another process's file may be in the way (Windows): use it when
		// it is whole, else this one.
		if r, err2 := openCache(path, key); err2 == nil {
			return r, nil
		}
		return openCache(tmp, key)
	}
	return openCache(path, key)
}

// readWeights reads (or, in a planning loader, checks) every tensor.
func (m *Model) readWeights(l *loader) {
	cfg := m.cfg
	E, F, V := cfg.NEmbd, cfg.inner(), cfg.VocabSize
	m.wte = l.matrix("wte.weight", V, E, false, 0)
	m.wpe = l.vector("wpe.weight", cfg.NPositions*E, cfg.NPositions, E)
	m.lnfg = l.vector("ln_f.weight", E)
	m.lnfb = l.vector("ln_f.bias", E)
	m.layers = make([]layer, cfg.NLayer)
	projPW, fc2PW := cfg.panels(l.q8)
	for i := range m.layers {
		p := fmt.Sprintf("h.%d.", i)
		ly := &m.layers[i]
		ly.ln1g = l.vector(p+"ln_1.weight", E)
		ly.ln1b = l.vector(p+"ln_1.bias", E)
		ly.attn = l.matrix(p+"attn.c_attn.weight", 3*E, E, true, 0)
		ly.attnB = l.vector(p+"attn.c_attn.bias", 3*E)
		ly.proj = l.matrix(p+"attn.c_proj.weight", E, E, true, projPW)
		ly.projB = l.vector(p+"attn.c_proj.bias", E)
		ly.ln2g = l.vector(p+"ln_2.weight", E)
		ly.ln2b = l.vector(p+"ln_2.bias", E)
		ly.fc = l.matrix(p+"mlp.c_fc.weight", F, E, true, 0)
		ly.fcB = l.vector(p+"mlp.c_fc.bias", F)
		ly.fc2 = l.matrix(p+"mlp.c_proj.weight", E, F, true, fc2PW)
		ly.fc2B = l.vector(p+"mlp.c_proj.bias", E)
		if l.err != nil {
			break
		}
	}
}

type loader struct {
	mem   *arena
	st    *safetensorsFile
	opts  Options
	q8    bool // quantised: q8, or q4 when q4 is set too
	q4    bool
	buf   []byte
	out   *cacheWriter // convert into this file (the model keeps nothing)
	cache *cacheReader // take the weights from this file instead
	raw   []float32    // scratch: a tensor as read
	tr    []float32    // scratch: transposed
	done  int64
	total int64 // bytes of the tensors read
	used  map[string]bool
	err   error

	// plan: only find and check the tensors, adding up what reading them
	// will take.
	plan    bool
	keep    int64       // bytes the loaded model holds
	peak    int64       // the most one tensor needs while it is read
	biggest *tensorInfo // the largest tensor
}

// newLoader is a loader of st for opts.Quant: planning, converting in
// memory, converting into a cache file or reading one, all lay the
// matrices out alike.
func newLoader(st *safetensorsFile, opts Options) *loader {
	return &loader{st: st, opts: opts, q8: opts.Quant != "", q4: opts.Quant == "q4"}
}

// memoryLimit is the memory this process may use (the machine's RAM, or a
// lower cgroup limit); 0 when unknown. A variable for tests.
var memoryLimit = systemMemory

// planned adds a tensor that will be read into n float32 values, keeping
// kept bytes of them, transposed (conv1d) or laid out in panels or not.
func (l *loader) planned(t *tensorInfo, n int, kept int64, copies int) {
	l.total += t.End - t.Begin
	l.keep += kept
	if l.biggest == nil || t.End-t.Begin > l.biggest.End-l.biggest.Begin {
		l.biggest = t
	}
	// the read buffer, the float32 values and their copies (transposed,
	// in panels); a q8 matrix also its int8 form (counted in kept).
	l.peak = max(l.peak, (t.End-t.Begin)+int64(n)*4*int64(copies))
}

// checkMemory refuses a model that cannot fit in memory, so that a huge
// (or sparse) checkpoint gets an error instead of an allocation the
// runtime cannot survive.
func (l *loader) checkMemory(cfg Config) error {
	need := l.keep + l.peak
	limit := memoryLimit()
	if limit <= 0 || need <= limit {
		return nil
	}
	b := l.biggest
	return fmt.Errorf("gpt2: %s: loading this model needs %s of memory (tensor %q of shape %v alone is %s on disk) but this computer has %s: config.json describes %d layers, n_embd %d, vocab_size %d, n_positions %d",
		l.st.path, humanSize(need), b.Name, b.Shape, humanSize(b.End-b.Begin), humanSize(limit), cfg.NLayer, cfg.NEmbd, cfg.VocabSize, cfg.NPositions)
}

// humanSize writes a byte count for people.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

func (l *loader) find(name string) *tensorInfo {
	if l.used == nil {
		l.used = map[string]bool{}
	}
	for _, n := range []string{"transformer." + name, name} {
		if t, ok := l.st.tensors[n]; ok {
			l.used[n] = true
			return t
		}
	}
	if l.err == nil {
		l.err = fmt.Errorf("gpt2: %s: tensor %q (or %q) is missing", l.st.path, name, "transformer."+name)
	}
	return nil
}

// checkUnused rejects tensors a GPT-2 does not have, except the attention
// mask buffers and a tied lm_head.
func (l *loader) checkUnused() {
	for n := range l.st.tensors {
		if l.used[n] {
			continue
		}
		switch {
		case strings.HasSuffix(n, ".attn.bias"), strings.HasSuffix(n, ".attn.masked_bias"):
			continue
		case n == "lm_head.weight":
			continue // tied to wte (checked shape-free; it is a copy of wte)
		}
		l.err = fmt.Errorf("gpt2: %s: unexpected tensor %q: not a GPT-2 checkpoint?", l.st.path, n)
		return
	}
}

func (l *loader) read(t *tensorInfo, dst []float32) {
	var err error
	l.buf, err = l.st.readFloat32(t, dst, l.buf)
	if err != nil && l.err == nil {
		l.err = err
	}
	l.done += t.End - t.Begin
	if l.opts.Progress != nil {
		l.opts.Progress(l.done, l.total)
	}
}

func (l *loader) checkShape(t *tensorInfo, want ...int) bool {
	ok := len(t.Shape) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = t.Shape[i] == want[i]
	}
	if !ok && l.err == nil {
		l.err = fmt.Errorf("gpt2: %s: tensor %q has shape %v, config.json implies %v", l.st.path, t.Name, t.Shape, want)
	}
	return ok
}

// checkDType accepts the float dtypes readFloat32 converts.
func (l *loader) checkDType(t *tensorInfo) bool {
	switch t.DType {
	case "F32", "F16", "BF16":
		return true
	}
	if l.err == nil {
		l.err = fmt.Errorf("gpt2: %s: tensor %q has dtype %s; want F32, F16 or BF16", l.st.path, t.Name, t.DType)
	}
	return false
}

// vector reads a 1-D tensor (or a 2-D one when shape is given).
func (l *loader) vector(name string, n int, shape ...int) []float32 {
	if l.err != nil {
		return nil
	}
	if l.cache != nil {
		v, err := l.cache.vector(name, n)
		l.err = err
		return v
	}
	t := l.find(name)
	if t == nil {
		return nil
	}
	if len(shape) == 0 {
		shape = []int{n}
	}
	if !l.checkShape(t, shape...) || !l.checkDType(t) {
		return nil
	}
	if l.plan {
		l.planned(t, n, int64(n)*4, 1)
		return nil
	}
	if l.out != nil {
		v := scratch(&l.raw, n)
		l.read(t, v)
		l.out.vector(name, v)
		return nil
	}
	v := make([]float32, n)
	l.read(t, v)
	return v
}

// scratch is *buf resized to n values, reallocated only when it is too
// small.
func scratch(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// matrix reads a weight matrix as [rows=out][cols=in]. Conv1D weights are
// stored [in][out] and are transposed here, once.
func (l *loader) matrix(name string, rows, cols int, conv1d bool, pw int) matrix {
	if l.err != nil {
		return matrix{}
	}
	if l.cache != nil {
		m, err := l.cache.matrix(name, rows, cols, pw)
		l.err = err
		return m
	}
	t := l.find(name)
	if t == nil {
		return matrix{}
	}
	if conv1d {
		if !l.checkShape(t, cols, rows) {
			return matrix{}
		}
	} else if !l.checkShape(t, rows, cols) {
		return matrix{}
	}
	if !l.checkDType(t) {
		return matrix{}
	}
	if l.plan {
		n := rows * cols
		copies := 1
		if conv1d {
			copies++
		}
		if pw > 0 && pw < cols && !l.q8 {
			copies++
		}
		kept := int64(n) * 4
		if l.q8 {
			groups, nblk := int64(rows+3)/4, int64(cols+qblock-1)/qblock
			kept = groups * nblk * 4 * (qblock + 2)
			if l.useQ4(name) {
				kept = groups * nblk * 4 * (q4Bytes + 2)
			}
		}
		l.planned(t, n, kept, copies)
		return matrix{}
	}
	// The buffers are reused from tensor to tensor: convert copies what
	// it keeps (into l.mem when the weights stay in memory).
	n := rows * cols
	raw := scratch(&l.raw, n)
	l.read(t, raw)
	if l.err != nil {
		return matrix{}
	}
	w := raw
	if conv1d {
		w = scratch(&l.tr, n)
		transpose(w, raw, cols, rows)
	}
	m := matrix{rows: rows, cols: cols, pw: pw, mem: l.mem}
	quant := l.opts.Quant
	if quant == "q4" && !l.useQ4(name) {
		quant = "q8" // the embedding, when embedQ4 is off
	}
	m.convert(w, quant)
	if l.out != nil {
		l.out.matrix(name, &m)
		if l.out.err != nil {
			l.err = &cacheWriteError{l.out.err}
		}
		m = matrix{}
	}
	l.shrink()
	return m
}

// bigScratch is the size (in values) from which a scratch buffer is not
// kept for the next tensor: the embedding table's would otherwise stay
// for the whole load (GPT-2: 154 MB, the other tensors 9 MB at most).
const bigScratch = 16 << 20

// shrink drops scratch buffers that are far larger than the next tensors
// need and gives their memory back to the system.
func (l *loader) shrink() {
	if cap(l.raw) > bigScratch || cap(l.tr) > bigScratch {
		if cap(l.raw) > bigScratch {
			l.raw = nil
		}
		if cap(l.tr) > bigScratch {
			l.tr = nil
		}
		debug.FreeOSMemory()
	}
}

// convert stores the row-major w (rows x cols) as the kernels read it for
// quant: float32 in panels, or quantised (w may be kept as m.f).
func (m *matrix) convert(w []float32, quant string) {
	if quant == "q4" {
		m.quantize4(w)
	} else if quant == "q8" {
		m.quantize(w)
	} else {
		m.setF(w)
	}
}

// transpose writes src [r][c] into dst [c][r], in cache-friendly blocks.
func transpose(dst, src []float32, r, c int) {
	const b = 32
	for i0 := 0; i0 < r; i0 += b {
		for j0 := 0; j0 < c; j0 += b {
			for i := i0; i < min(i0+b, r); i++ {
				for j := j0; j < min(j0+b, c); j++ {
					dst[j*r+i] = src[i*c+j]
				}
			}
		}
	}
}

// quantize stores w as int8 with one scale per block of qblock columns.
// Layout: rows in groups of 4; for each group and block, the 4 rows' 32
// int8 values lie side by side (128 bytes) and their 4 scales too, so the
// matrix-vector kernel reads one sequential stream. Padding is zero.
//
// A scale is a float16 times a factor 2^-e common to the matrix, chosen so
// the largest scale is about 2^13: the scales keep 11 significant bits and
// 27 octaves of range below the largest (a block smaller than that, or
// one whose scale would be a float16 subnormal, is stored as zeros). The
// weights are rounded with the scale as stored.
func (m *matrix) quantize(w []float32) {
	m.nblk = (m.cols + qblock - 1) / qblock
	m.qbits = 8
	groups := (m.rows + 3) / 4
	m.q = m.mem.i8(groups * m.nblk * 4 * qblock)
	m.s = m.mem.u16(groups * m.nblk * 4)
	var amax float32
	for _, v := range w[:m.rows*m.cols] {
		amax = max(amax, abs32(v))
	}
	e := 0
	if amax > 0 && !math.IsInf(float64(amax), 0) && !math.IsNaN(float64(amax)) {
		_, exp := math.Frexp(float64(amax / 127)) // amax/127 in [2^(exp-1), 2^exp)
		e = 14 - exp
	}
	up := float32(math.Ldexp(1, e))
	m.smul = float32(math.Ldexp(1, -e))
	for r := 0; r < m.rows; r++ {
		row := w[r*m.cols : (r+1)*m.cols]
		for b := 0; b < m.nblk; b++ {
			lo, hi := b*qblock, min((b+1)*qblock, m.cols)
			var bmax float32
			for _, v := range row[lo:hi] {
				bmax = max(bmax, abs32(v))
			}
			h := f32ToF16(bmax / 127 * up)
			if h&0x7c00 == 0 || h&0x7c00 == 0x7c00 { // zero, subnormal, inf
				continue
			}
			_, si := m.qblk(r, b)
			m.s[si] = h
			inv := 1 / (f16ToF32(h) * m.smul)
			for j := lo; j < hi; j++ {
				m.q[q8at(si, j-lo)] = int8(max(-127, min(127, round32(row[j]*inv))))
			}
		}
	}
}

// q8at is where column j of the q8 block with scale m.s[si] lies in m.q. A
// group of four rows stores each block's 4 x 32 values as four chunks of
// 32 bytes, chunk k holding columns 8k..8k+7 of row 0, then of rows 1, 2
// and 3: a 512-bit register widened from one chunk holds one row per
// 128-bit lane (see dotNq8AVX512).
func q8at(si, j int) int {
	return (si&^3)*qblock + (j>>3)*32 + (si&3)*8 + j&7
}

// qblk is block b of quantised row r and the index of its scale in m.s: q4,
// q4Bytes bytes of codes (see quantize4); q8, the group's block, with row
// r's values at q8at (zero-padded).
func (m *matrix) qblk(r, b int) ([]int8, int) {
	g, i := r/4, r%4
	p0, w := m.panel(b * qblock)
	pb0, nbp := p0/qblock, (w+qblock-1)/qblock
	groups := (m.rows + 3) / 4
	si := (pb0*groups+g*nbp+b-pb0)*4 + i
	if m.qbits == 4 {
		return m.q[si*q4Bytes : (si+1)*q4Bytes], si
	}
	return m.q[(si&^3)*qblock : (si&^3+4)*qblock], si
}

// row writes row r as float32 into dst.
func (m *matrix) row(r int, dst []float32) {
	if m.f != nil {
		g, i := r/4, r%4
		for p0 := 0; p0 < m.cols; {
			_, pw := m.panel(p0)
			nc := (pw + fchunk - 1) / fchunk
			base := m.fpanel(p0) + g*nc*4*fchunk + i*fchunk
			for c := 0; c < nc; c++ {
				n := min(fchunk, pw-c*fchunk)
				copy(dst[p0+c*fchunk:p0+c*fchunk+n], m.f[base+c*4*fchunk:][:n])
			}
			p0 += pw
		}
		return
	}
	if m.qbits == 4 {
		m.row4(r, dst)
		return
	}
	for b := 0; b < m.nblk; b++ {
		_, si := m.qblk(r, b)
		s := f16ToF32(m.s[si]) * m.smul
		lo := b * qblock
		d := dst[lo:min(lo+qblock, m.cols)]
		for k := 0; 8*k < len(d); k++ { // chunks of 8 columns
			o := q8at(si, 8*k)
			q := (*[8]int8)(m.q[o : o+8])
			if dk := d[8*k:]; len(dk) >= 8 {
				dk := (*[8]float32)(dk[:8])
				for c := range dk {
					dk[c] = float32(q[c]) * s
				}
			} else {
				for c := range dk {
					dk[c] = float32(q[c]) * s
				}
			}
		}
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func round32(v float32) float32 {
	if v < 0 {
		return -float32(int32(-v + 0.5))
	}
	return float32(int32(v + 0.5))
}

// f32ToF16 rounds to the nearest half (normal range; enough for weights).
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		return sign | uint16((mant+(1<<(shift-1)))>>shift)
	case exp >= 31:
		return sign | 0x7c00
	}
	h := uint32(exp)<<10 | mant>>13
	if mant&0x1fff > 0x1000 || mant&0x1fff == 0x1000 && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

var errClosed = errors.New("gpt2: model is closed")
