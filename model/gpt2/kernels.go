package gpt2

import (
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ForcePortable makes the kernels use portable Go even where the AVX2/FMA
// assembly could run. Tests and benchmarks set it to compare the two; set
// it before Generate, not during one.
var ForcePortable bool

func useAsm() bool { return haveAsm && !ForcePortable }

// forceAVX2 keeps the q8 kernel on AVX2 where AVX-512 could run (tests and
// benchmarks compare the two).
var forceAVX2 bool

func useAVX512() bool { return haveAVX512 && !ForcePortable && !forceAVX2 }

// useVNNI says the q4 kernel may use AVX-512 VNNI (VPDPBUSD).
func useVNNI() bool { return haveVNNI && !ForcePortable && !forceAVX2 }

// --- portable kernels ---

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGo(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// dotQ8Go is the dot product of quantised row r of m with x, over blocks
// b0 to b1.
func dotQ8Go(m *matrix, r, b0, b1 int, x []float32) float32 {
	var sum float32
	for b := b0; b < b1; b++ {
		_, si := m.qblk(r, b)
		xb := x[b*qblock : min((b+1)*qblock, m.cols)]
		var acc float32
		for k := 0; 8*k < len(xb); k++ { // chunks of 8 columns (see q8at)
			o := q8at(si, 8*k)
			q := m.q[o : o+8 : o+8]
			if xk := xb[8*k:]; len(xk) >= 8 {
				xk = xk[:8:8]
				for c := range 8 {
					acc += float32(q[c]) * xk[c]
				}
			} else {
				for c, v := range xk {
					acc += float32(q[c]) * v
				}
			}
		}
		sum += acc * f16ToF32(m.s[si])
	}
	return sum * m.smul
}

// --- dispatching kernels ---

func dot(a, b []float32) float32 {
	n := len(a)
	if useAsm() && n >= 8 {
		n8 := n &^ 7
		s := dotAVX(&a[0], &b[0], n8)
		for i := n8; i < n; i++ {
			s += a[i] * b[i]
		}
		return s
	}
	return dotGo(a, b)
}

func axpy(y []float32, a float32, x []float32) {
	n := len(y)
	if useAsm() && n >= 8 {
		n8 := n &^ 7
		axpyAVX(&y[0], &x[0], a, n8)
		for i := n8; i < n; i++ {
			y[i] += a * x[i]
		}
		return
	}
	axpyGo(y, a, x)
}

// matVec sets y[r] = row r of m · x for r in [lo, hi). For a q8 matrix,
// qx may hold x already quantised by quantizeX (nil: quantised here).
func matVec(m *matrix, x []float32, qx *qvec, y []float32, lo, hi int) {
	matVecCols(m, x, qx, y, lo, hi, 0, m.cols)
}

// matVecCols sets y[r] = row r of m · x over columns [c0, c1) only, for r
// in [lo, hi). For a q8 matrix c0 is a multiple of qblock, and so is c1
// unless it is m.cols; qx (nil: quantised here) must hold those blocks.
func matVecCols(m *matrix, x []float32, qx *qvec, y []float32, lo, hi, c0, c1 int) {
	if m.q != nil && qx == nil && useAsm() {
		qx = quantizeX(x, m.nblk)
	}
	for c, add := c0, false; c < c1 || !add; add = true {
		p0, w := m.panel(c)
		e := min(c1, p0+w)
		matVecPanel(m, x, qx, y, lo, hi, c, e, add)
		c = e
		if c >= c1 {
			break
		}
	}
}

// matVecPanel is matVecCols over columns [c0, c1) of one panel; add says
// to add to y rather than set it.
func matVecPanel(m *matrix, x []float32, qx *qvec, y []float32, lo, hi, c0, c1 int, add bool) {
	K := m.cols
	p0, w := m.panel(c0)
	set := func(r int, v float32) {
		if add {
			y[r] += v
		} else {
			y[r] = v
		}
	}
	if m.f != nil {
		matVecF32(m, x, y, lo, hi, p0, w, c0, c1, add, set)
		return
	}
	if m.qbits == 4 {
		matVecPanelQ4(m, x, qx, y, lo, hi, c0, c1, add)
		return
	}
	b0, b1 := c0/qblock, (c1+qblock-1)/qblock
	full := min(b1, K/qblock) // blocks [b0, full) have all qblock columns
	if useAsm() && full > b0 && lo%4 == 0 {
		pb0 := p0 / qblock               // the panel's first block
		nbp := (w + qblock - 1) / qblock // its blocks per row
		groups := (m.rows + 3) / 4
		// Prefetch ahead only when the panel's groups stream by whole;
		// with part of their blocks, the bytes ahead belong to others.
		pf := 0
		if b0 == pb0 && b1 == pb0+nbp {
			pf = 4096
		}
		var out [4]float32
		g := lo / 4
		if n := hi/4 - g; n > 0 && full == b1 {
			// whole groups in one call, into y directly
			nk := dotNq8AVX
			if useVNNI() {
				nk = dotNq8AVX512
			}
			o := pb0*groups + g*nbp + (b0 - pb0)
			nk(&m.q[o*4*qblock], &m.s[o*4], &qx.q[b0*qblock], &qx.s[b0], full-b0, pf, &y[4*g], n, nbp, m.smul, b2i(add))
			g += n
		}
		for ; 4*g < hi; g++ {
			o := pb0*groups + g*nbp + (b0 - pb0)
			dot4q8(&m.q[o*4*qblock], &m.s[o*4], &qx.q[b0*qblock], &qx.s[b0], full-b0, pf, &out[0])
			for i := 0; i < 4 && 4*g+i < hi; i++ {
				s := out[i] * m.smul
				if full < b1 {
					s += dotQ8Go(m, 4*g+i, full, b1, x)
				}
				set(4*g+i, s)
			}
		}
		return
	}
	for r := lo; r < hi; r++ {
		set(r, dotQ8Go(m, r, b0, b1, x))
	}
}

// matVecF32 is matVecPanel for float32 weights (see matrix.setF for the
// layout): rows [lo, hi), columns [c0, c1) of the panel at p0, w wide.
func matVecF32(m *matrix, x []float32, y []float32, lo, hi, p0, w, c0, c1 int, add bool, set func(int, float32)) {
	nc := (w + fchunk - 1) / fchunk
	base := m.fpanel(p0)
	k0, k1 := (c0-p0)/fchunk, (c1-p0+fchunk-1)/fchunk // chunks
	r := lo
	if useAsm() && (c0-p0)%fchunk == 0 && ((c1-p0)%fchunk == 0 || c1 == p0+w) {
		xs := x[c0:]
		if len(xs) < (k1-k0)*fchunk { // the last chunk is part padding
			xs = make([]float32, (k1-k0)*fchunk)
			copy(xs, x[c0:c1])
		}
		for ; r < hi && (r%4 != 0 || r+4 > hi); r++ { // a partial group first
			set(r, dotF32Row(m, x, r, base, nc, c0, c1, p0))
		}
		if n := (hi - r) / 4; n > 0 && r < hi {
			// whole groups in one call, into y directly
			nk := dotNilvAVX
			if useAVX512() {
				nk = dotNilvAVX512
			}
			nk(&m.f[base+(r/4*nc+k0)*4*fchunk], &xs[0], k1-k0, nc*4*fchunk*4, &y[r], n, b2i(add))
			r += 4 * n
		}
	}
	for ; r < hi; r++ {
		set(r, dotF32Row(m, x, r, base, nc, c0, c1, p0))
	}
}

// dotF32Row is row r of a float32 panel (at base, nc chunks) · x over
// columns [c0, c1).
func dotF32Row(m *matrix, x []float32, r, base, nc, c0, c1, p0 int) float32 {
	g, i := r/4, r%4
	var s float32
	for c := c0; c < c1; {
		k := (c - p0) / fchunk
		j := (c - p0) % fchunk
		n := min(fchunk-j, c1-c)
		s += dotGo(m.f[base+(g*nc+k)*4*fchunk+i*fchunk+j:][:n], x[c:c+n])
		c += n
	}
	return s
}

// dot4q8 sets out[i] to row i · x (before the matrix's smul) for one group
// of four q8 rows: dotNq8's arithmetic for one group, so that a group done
// alone sums as one done in a range.
func dot4q8(q *int8, s *uint16, xq *int16, xs *float32, nblk, pf int, out *float32) {
	if useVNNI() {
		dotNq8AVX512(q, s, xq, xs, nblk, pf, out, 1, 0, 1, 0)
	} else {
		dotNq8AVX(q, s, xq, xs, nblk, pf, out, 1, 0, 1, 0)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// qvec is a vector quantised to int16 with one scale per qblock, the
// input of the q8 matrix-vector kernel, and to int8 (b, bs, bc; see
// quantize8), the input of the q4 kernels.
type qvec struct {
	q  []int16
	s  []float32
	b  []int8    // int8 values, q4
	bs []float32 // their scale per block
	bc []int32   // per block: -8 * sum of its b, then 3 zeros
	// bits says which forms quantize fills: 8 the int16 one (q8), 4 the
	// int8 one (q4), 0 both.
	bits int
}

// quantizeX quantises x (zero-padded to nblk blocks) to int16: the error,
// under 1/65534 of each block's largest value, is far below q8's own.
func quantizeX(x []float32, nblk int) *qvec {
	v := newQvec(nblk)
	v.quantize(x, 0, nblk)
	return v
}

// quantize sets blocks [b0, b1) of v from x (blocks past len(x) are zero),
// in both forms (the int8 one costs little next to a matrix product).
func (v *qvec) quantize(x []float32, b0, b1 int) {
	if v.bits != 8 {
		v.quantize8(x, b0, b1)
	}
	if v.bits == 4 {
		return
	}
	if useAVX512() {
		if n := min(b1, len(x)/qblock) - b0; n > 0 {
			quantAVX512(&x[b0*qblock], &v.q[b0*qblock], &v.s[b0], n)
			b0 += n
		}
	}
	for b := b0; b < b1; b++ {
		q := v.q[b*qblock : (b+1)*qblock]
		clear(q)
		v.s[b] = 0
		if b*qblock >= len(x) {
			continue
		}
		xb := x[b*qblock : min((b+1)*qblock, len(x))]
		var amax float32
		for _, f := range xb {
			amax = max(amax, abs32(f))
		}
		if amax == 0 {
			continue
		}
		s := amax / 32767
		v.s[b] = s
		inv := 1 / s
		for j, f := range xb {
			q[j] = int16(round32(f * inv))
		}
	}
}

// newQvecFor is newQvec for the matrices of m: the forms its matrices
// read.
func newQvecFor(nblk int, m *Model) *qvec {
	v := newQvec(nblk)
	if len(m.layers) > 0 && m.layers[0].attn.qbits == m.wte.qbits {
		v.bits = m.wte.qbits
	}
	return v
}

func newQvec(nblk int) *qvec {
	return &qvec{q: make([]int16, nblk*qblock), s: make([]float32, nblk),
		b: make([]int8, nblk*qblock), bs: make([]float32, nblk), bc: make([]int32, 4*nblk)}
}

// matMul sets Y[t][r] = row r of m · X[t] for t < T and r in [lo, hi).
// X is T x m.cols, Y is T x ldy. scratch holds at least 3*m.cols floats.
func matMul(m *matrix, X []float32, T int, Y []float32, ldy, lo, hi int, scratch []float32) {
	K := m.cols
	// X in chunks of about 1 MB (L2): each tile of 3 weight rows is read
	// (and, for q8, dequantised) once per chunk.
	tchunk := matMulChunk(K)
	for t0 := 0; t0 < T; t0 += tchunk {
		t1 := min(t0+tchunk, T)
		for r := lo; r < hi; r += 3 {
			nr := min(3, hi-r)
			w := scratch[:nr*K]
			for i := 0; i < nr; i++ {
				m.row(r+i, w[i*K:(i+1)*K])
			}
			mulTile(w, nr, K, r, X, t0, t1, Y, ldy)
		}
	}
}

// matMulChunk is how many rows of X (K wide) matMul takes at a time.
func matMulChunk(K int) int { return max(4, (1<<20)/(4*K)&^3) }

// matMulMany is matMul for several inputs: Ys[i] = m · Xs[i] (Ts[i] rows)
// for rows [lo, hi) of m. Each tile of weight rows is read and dequantised
// once for all of them, not once per input; every value is matMul's, bit
// for bit (the same tiles, and each input's tokens in the same groups of
// four from its first).
func matMulMany(m *matrix, Xs [][]float32, Ts []int, Ys [][]float32, ldy, lo, hi int, scratch []float32) {
	K := m.cols
	for _, T := range Ts {
		if T > matMulChunk(K) { // matMul would take it in chunks
			for i := range Xs {
				matMul(m, Xs[i], Ts[i], Ys[i], ldy, lo, hi, scratch)
			}
			return
		}
	}
	for r := lo; r < hi; r += 3 {
		nr := min(3, hi-r)
		w := scratch[:nr*K]
		for i := 0; i < nr; i++ {
			m.row(r+i, w[i*K:(i+1)*K])
		}
		for i := range Xs {
			mulTile(w, nr, K, r, Xs[i], 0, Ts[i], Ys[i], ldy)
		}
	}
}

// mulTile sets Y[t][r+i] = w[i] · X[t] for the nr (at most 3) dequantised
// rows in w and t in [t0, t1): four tokens at a time where it can.
func mulTile(w []float32, nr, K, r int, X []float32, t0, t1 int, Y []float32, ldy int) {
	asm := useAsm() && K >= 8
	K8 := K &^ 7
	var out [12]float32
	t := t0
	if asm && nr == 3 {
		for ; t+4 <= t1; t += 4 {
			dot3x4AVX(&w[0], K, &X[t*K], K, K8, &out[0])
			for i := 0; i < 3; i++ {
				wr := w[i*K : (i+1)*K]
				for j := 0; j < 4; j++ {
					s := out[i*4+j]
					xr := X[(t+j)*K : (t+j+1)*K]
					for k := K8; k < K; k++ {
						s += wr[k] * xr[k]
					}
					Y[(t+j)*ldy+r+i] = s
				}
			}
		}
	}
	for ; t < t1; t++ {
		xr := X[t*K : (t+1)*K]
		for i := 0; i < nr; i++ {
			Y[t*ldy+r+i] = dot(w[i*K:(i+1)*K], xr)
		}
	}
}

// --- threads ---

// pool sizes data-parallel steps (see run); nothing spins.
type pool struct {
	threads int // 0 = PhysicalCores()
}

func newPool(threads int) *pool { return &pool{threads: threads} }

// size is the number of goroutines a step may use now.
func (p *pool) size() int {
	if p.threads > 0 {
		return p.threads
	}
	return PhysicalCores()
}

var idle struct {
	sync.Mutex
	at    time.Time
	cpu   time.Duration
	own   float64 // this process's recent CPU use, in cores
	cores int
}

// IdleCores estimates the cores not busy with other programs: the number
// of CPUs less the one-minute load average, not counting this process's
// own recent use (Linux; elsewhere all CPUs), at least 1. It is sampled at
// most once a second.
func IdleCores() int {
	n := runtime.NumCPU()
	idle.Lock()
	defer idle.Unlock()
	now := time.Now()
	if !idle.at.IsZero() && now.Sub(idle.at) < time.Second {
		return idle.cores
	}
	cpu := processCPU()
	if !idle.at.IsZero() && now.Sub(idle.at) < time.Minute && cpu > 0 {
		idle.own = float64(cpu-idle.cpu) / float64(now.Sub(idle.at))
	} else {
		idle.own = 0
	}
	idle.at, idle.cpu = now, cpu
	idle.cores = n
	b, err := os.ReadFile("/proc/loadavg")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if load, err := strconv.ParseFloat(f[0], 64); err == nil && !math.IsNaN(load) {
				others := max(0, load-idle.own)
				idle.cores = max(1, min(n, n-int(math.Floor(others+0.5))))
			}
		}
	}
	return idle.cores
}

// run splits [0, n) into pieces, each a multiple of align long (but the
// last), and calls fn(part, lo, hi) on them from k goroutines (the caller
// is one); part < k names the goroutine, for its scratch space. There are
// a few pieces per goroutine, taken in turn, so a goroutine whose core is
// busy with another program does not hold the others up. The other
// goroutines are helpers parked on a channel (see helpers); the caller
// waits on a WaitGroup: nothing spins.
func run(k, n, align int, fn func(part, lo, hi int)) {
	units := (n + align - 1) / align
	if k <= 1 || units <= 1 {
		fn(0, 0, n)
		return
	}
	k = min(k, units)
	pieces := min(units, 4*k)
	per := (units + pieces - 1) / pieces * align
	pieces = (n + per - 1) / per
	runN(k, pieces, func(part, i int) { fn(part, i*per, min((i+1)*per, n)) })
}

// runN calls fn(part, i) for every i in [0, n) from min(k, n) goroutines
// (the caller is part 0) that take the i in turn.
func runN(k, n int, fn func(part, i int)) {
	k = min(k, n)
	if k <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	// Helpers leave the last piece to the caller: a helper that is woken
	// late (an idle core can take long to wake, in a virtual machine
	// easily 100 µs) then rarely finishes after the caller, which would
	// have to sleep until it does and be woken in turn.
	var next atomic.Int64
	work := func(part int) {
		for {
			var i int
			if part == 0 {
				i = int(next.Add(1) - 1)
			} else {
				i = int(next.Load())
				if i >= n-1 {
					return
				}
				if !next.CompareAndSwap(int64(i), int64(i+1)) {
					continue
				}
			}
			if i >= n {
				return
			}
			fn(part, i)
		}
	}
	var wg sync.WaitGroup
	wg.Add(k - 1)
	for part := 1; part < k; part++ {
		helpers.get().jobs <- job{part: part, work: work, wg: &wg}
	}
	// A woken helper waits in this P's runnext slot, where other Ps steal
	// it only reluctantly: it often started 100-300 µs late, or when the
	// caller blocked (measured). Yielding runs it here at once and lets an
	// idle P take the caller (about 17 µs).
	runtime.Gosched()
	work(0)
	wg.Wait()
}

// runEach calls fn(part) once for every part in [0, k), each on its own
// goroutine (the caller is part 0, parked helpers the others) and waits
// for all. Unlike runN nothing is left to the caller: each part is its own
// share of the work (decodeBatch's sequences), and a helper woken late
// still does its part.
func runEach(k int, fn func(part int)) {
	if k <= 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(k - 1)
	for part := 1; part < k; part++ {
		helpers.get().jobs <- job{part: part, work: fn, wg: &wg}
	}
	runtime.Gosched() // as in runN: the helper starts at once
	fn(0)
	wg.Wait()
}

// helpers are goroutines kept between steps, parked on a channel receive
// (not spinning) until run hands them a piece of work. A fresh goroutine
// per step starts late: the Go scheduler queues it on the creating P and
// other Ps pick it up only after a delay, often not before the step is
// done; a parked helper is woken at once. Helpers idle for helperIdle exit.
var helpers helperPool

const helperIdle = 2 * time.Second

type job struct {
	part int
	work func(part int)
	wg   *sync.WaitGroup
}

type helper struct{ jobs chan job }

type helperPool struct {
	mu   sync.Mutex
	idle []*helper
}

// get returns a parked helper, starting one if none is idle.
func (p *helperPool) get() *helper {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		h := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return h
	}
	p.mu.Unlock()
	h := &helper{jobs: make(chan job, 1)}
	go h.loop(p)
	return h
}

func (h *helper) loop(p *helperPool) {
	t := time.NewTimer(helperIdle)
	defer t.Stop()
	for {
		select {
		case j := <-h.jobs:
			j.work(j.part)
			p.mu.Lock()
			p.idle = append(p.idle, h)
			p.mu.Unlock()
			j.wg.Done()
			t.Reset(helperIdle)
		case <-t.C:
			p.mu.Lock()
			i := slices.Index(p.idle, h)
			if i < 0 { // handed out just now: a job is on its way
				p.mu.Unlock()
				t.Reset(helperIdle)
				continue
			}
			p.idle = slices.Delete(p.idle, i, i+1)
			p.mu.Unlock()
			return
		}
	}
}
