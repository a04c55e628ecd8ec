package gpt2

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// The run-format cache: after a checkpoint is first loaded, its weights as
// the kernels use them (transposed, in panels, quantised) are written to one
// file, and later loads map that file instead of converting again.
//
// File: the position table at offset 0 and a gap up to a multiple of 2 MiB
// (see headVector), the other tensors' sections (each at a multiple of
// cacheAlign), then a JSON header (cacheHeader), then a 32-byte trailer:
// the header's offset (uint64) and length (uint64), its CRC-32C (uint32),
// cacheVersion (uint32) and cacheMagic, little-endian. Each tensor's sections have a CRC-32C in the
// header, checked at every load. The file is written under a temporary name
// and renamed into place, so a reader sees a whole file or none; a file that
// is short, damaged or from another version is rebuilt.
//
// Key (the file name): a hash of model.safetensors' bytes (XXH3-128 over
// the XXH3-128s of its 64 MiB pieces, hashed in parallel) and its size, the
// quantisation, and a hash of the config, cacheVersion and layoutPrint.
// XXH3 hashes at memory speed (~10 GB/s on one core: 50 ms for GPT-2 124M
// in F32) and is not cryptographic: it detects an edited or replaced
// checkpoint (an accidental collision has odds of 2^-128), not a forgery
// made to collide by someone who can already write the checkpoint and the
// cache.

// cacheVersion numbers the file format; bump it when the format changes.
// Changes to how matrices are laid out in memory change layoutPrint and so
// the key, without a bump. Version 2 put the position table first, alone
// in its 2 MiB pages.
const cacheVersion = 2

// headVector is the tensor at offset 0, followed by a gap (a hole in the
// file where the file system has them) up to a multiple of headAlign,
// where the other tensors start: the position table, 3 MB for GPT-2, of
// which a generation reads a row per position. In the huge pages of a
// mapping it would otherwise share pages with weights every token reads,
// and all of it would stay resident; alone in its pages it is given back
// after the load, and its rows are read from the file as generations need
// them (Model.positions). (At the end of the file, the gap before it would
// share the last weights' huge page: resident too.)
// A smaller table is written in its place among the others: it is not
// worth a 2 MiB gap (small models are copied, not mapped, anyway).
const (
	headVector = "wpe.weight"
	headAlign  = 2 << 20
	minHead    = 512 << 10
)
const (
	cacheMagic   = "DBGPT2RF"
	trailerLen   = 32
	cacheAlign   = 64
	maxCacheHdr  = 64 << 20
	cacheSuffix  = ".gpt2cache"
	cacheEnvName = "DESKBOT_CACHE"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// cacheSection is a byte range of the cache file.
type cacheSection struct {
	Off int64 `json:"off"`
	Len int64 `json:"len"`
}

// cacheTensor is one matrix (Rows > 0) or vector (Rows == 0, Cols values)
// of the model as stored.
type cacheTensor struct {
	Name  string       `json:"name"`
	Rows  int          `json:"rows,omitempty"`
	Cols  int          `json:"cols"`
	PW    int          `json:"pw,omitempty"`
	NBlk  int          `json:"nblk,omitempty"`
	QBits int          `json:"qbits,omitempty"`
	Smul  float32      `json:"smul,omitempty"`
	F     cacheSection `json:"f"`
	Q     cacheSection `json:"q"`
	S     cacheSection `json:"s"`
	CRC   uint32       `json:"crc"` // CRC-32C of F, Q and S in turn
}

type cacheHeader struct {
	Version    int           `json:"version"`
	Checkpoint string        `json:"checkpoint"` // XXH3-128 of model.safetensors, hex
	Size       int64         `json:"size"`       // of model.safetensors
	Quant      string        `json:"quant"`
	Layout     string        `json:"layout"`
	Config     Config        `json:"config"`
	Source     string        `json:"source"` // where the checkpoint was, for people
	Tensors    []cacheTensor `json:"tensors"`
}

// cacheKey is what a cache file must match.
type cacheKey struct {
	hash   string
	size   int64
	quant  string
	layout string
	cfg    Config
}

func (k *cacheKey) fileName() string {
	h := xxh3.New()
	b, _ := json.Marshal(k.cfg)
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s", cacheVersion, k.layout, k.quant, b)
	q := k.quant
	if q == "" {
		q = "f32"
	}
	return fmt.Sprintf("%s-%d-%s-%016x%s", k.hash, k.size, q, h.Sum64(), cacheSuffix)
}

// CacheDir is where Load keeps converted weights when Options.CacheDir is
// empty: $DESKBOT_CACHE, else deskbot/gpt2 in the user cache folder
// (os.UserCacheDir). "" and an error when there is none; "off" in
// $DESKBOT_CACHE turns the cache off.
func CacheDir() (string, error) {
	if d := os.Getenv(cacheEnvName); d != "" {
		if d == "off" {
			return "", nil
		}
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache folder (set %s): %w", cacheEnvName, err)
	}
	return filepath.Join(d, "deskbot", "gpt2"), nil
}

// ClearCache removes the cache files in dir (CacheDir() when dir is ""):
// finished ones and any left half-written. It returns how many files and
// bytes it removed. A model using a removed file keeps working: its
// mapping holds the data until it is closed.
func ClearCache(dir string) (files int, bytes int64, err error) {
	if dir == "" {
		if dir, err = CacheDir(); err != nil || dir == "" {
			return 0, 0, err
		}
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("gpt2: clear cache: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.Contains(e.Name(), cacheSuffix) {
			continue
		}
		info, _ := e.Info()
		if rerr := os.Remove(filepath.Join(dir, e.Name())); rerr != nil {
			err = errors.Join(err, fmt.Errorf("gpt2: clear cache: %w", rerr))
			continue
		}
		files++
		if info != nil {
			bytes += info.Size()
		}
	}
	return files, bytes, err
}

// removeSuperseded removes the cache files in dir for the same checkpoint
// and quantisation as the one just written at path but another key: files
// of an older layout or version (the q8 layout changed on 30 Nov 2026, and
// each 124M q8 file is 135 MB), which no load would open again. A file
// another process has open stays until it is closed (Linux) or is left in
// place (Windows refuses); errors are ignored: the next write tries again.
func removeSuperseded(dir, path string) {
	base := filepath.Base(path)
	// <hash>-<size>-<quant>-<key>.gpt2cache
	i := strings.LastIndexByte(strings.TrimSuffix(base, cacheSuffix), '-')
	if i < 0 || !strings.HasSuffix(base, cacheSuffix) {
		return
	}
	prefix := base[:i+1]
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if n != base && e.Type().IsRegular() && strings.HasPrefix(n, prefix) && strings.HasSuffix(n, cacheSuffix) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// hashPiece is the size of the pieces hashFile hashes in parallel.
const hashPiece = 64 << 20

// hashFile hashes the file's bytes: the XXH3-128 of the size and the
// XXH3-128s of its 64 MiB pieces, which up to 4 goroutines hash at once
// (the result does not depend on how many). The file is read, not mapped:
// its bytes do not count in this process's memory.
func hashFile(f *os.File) (string, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	size := fi.Size()
	pieces := int((size + hashPiece - 1) / hashPiece)
	sums := make([][16]byte, pieces)
	errs := make([]error, pieces)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(pieces, 4, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for {
				i := int(next.Add(1) - 1)
				if i >= pieces {
					return
				}
				h := xxh3.New()
				off := int64(i) * hashPiece
				n, err := io.CopyBuffer(h, io.NewSectionReader(f, off, min(hashPiece, size-off)), buf)
				if err == nil && n != min(hashPiece, size-off) {
					err = io.ErrUnexpectedEOF
				}
				sums[i], errs[i] = h.Sum128().Bytes(), err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", 0, err
	}
	h := xxh3.New()
	binary.Write(h, binary.LittleEndian, size)
	for _, s := range sums {
		h.Write(s[:])
	}
	s := h.Sum128().Bytes()
	return hex.EncodeToString(s[:]), size, nil
}

// layoutPrint hashes how a small matrix, with every feature of the layouts
// (rows not a multiple of 4, a partial block, panels), is stored for quant:
// a change to the layout code changes the cache key.
func layoutPrint(quant string) string {
	rows, cols, pw := 7, 3*qblock+5, 2*qblock
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(i*37%101-50) / 64
	}
	m := matrix{rows: rows, cols: cols, pw: pw}
	m.convert(w, quant)
	h := xxh3.New()
	f, q, s := m.sections()
	h.Write(f)
	h.Write(q)
	h.Write(s)
	fmt.Fprintf(h, "%d %d %d %d %d %g", m.rows, m.cols, m.pw, m.nblk, m.qbits, m.smul)
	if quant == "q4" && !embedQ4 { // wte in q8 (the quality benchmark's variant)
		fmt.Fprintf(h, " wte q8")
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// sections are the matrix's stored slices as bytes.
func (m *matrix) sections() (f, q, s []byte) {
	return asBytes(m.f), asBytes(m.q), asBytes(m.s)
}

func asBytes[T float32 | int8 | uint16](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(v[0])))
}

// storage is how many values of f, q and s a matrix of this shape, panel
// width and quantisation holds; ok is false for a quantisation it does not
// know (such a file is never trusted).
func (m *matrix) storage() (nf, nq, ns int, ok bool) {
	switch m.qbits {
	case 0:
		return m.fsize(), 0, 0, true
	case 8:
		groups := (m.rows + 3) / 4
		return 0, groups * m.nblk * 4 * qblock, groups * m.nblk * 4, true
	case 4:
		groups := (m.rows + 3) / 4
		return 0, groups * m.nblk * 4 * q4Bytes, groups * m.nblk * 4, true
	}
	return 0, 0, 0, false
}

// cacheWriter writes a cache file: sections as tensors are converted,
// then the header and the trailer.
type cacheWriter struct {
	f    *os.File
	bw   *bufio.Writer
	off  int64
	hdr  cacheHeader
	err  error
	head int64 // bytes kept at the start for headVector (see reserveHead)
}

// reserveHead keeps room for headVector, n bytes, at the start of the
// file: the other sections start at the next multiple of headAlign.
func (w *cacheWriter) reserveHead(n int64) {
	w.head = (n + headAlign - 1) / headAlign * headAlign
	if w.off != 0 || w.err != nil {
		w.err = cmp.Or(w.err, errors.New("cache writer: head reserved after the start"))
		return
	}
	if _, w.err = w.f.Seek(w.head, io.SeekStart); w.err == nil {
		w.off = w.head
	}
}

func (w *cacheWriter) write(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.bw.Write(b)
	w.off += int64(len(b))
}

var zeros [cacheAlign]byte

// section writes b at the next aligned offset and adds it to the CRC.
func (w *cacheWriter) section(b []byte, crc *uint32) cacheSection {
	if len(b) == 0 {
		return cacheSection{}
	}
	if pad := (cacheAlign - w.off%cacheAlign) % cacheAlign; pad > 0 {
		w.write(zeros[:pad])
	}
	s := cacheSection{Off: w.off, Len: int64(len(b))}
	w.write(b)
	*crc = crc32.Update(*crc, castagnoli, b)
	return s
}

func (w *cacheWriter) matrix(name string, m *matrix) {
	nf, nq, ns, ok := m.storage()
	if !ok || len(m.f) != nf || len(m.q) != nq || len(m.s) != ns {
		if w.err == nil {
			w.err = fmt.Errorf("matrix %s (%d bits) is not stored as the cache expects", name, m.qbits)
		}
		return
	}
	t := cacheTensor{Name: name, Rows: m.rows, Cols: m.cols, PW: m.pw, NBlk: m.nblk, QBits: m.qbits, Smul: m.smul}
	f, q, s := m.sections()
	t.F = w.section(f, &t.CRC)
	t.Q = w.section(q, &t.CRC)
	t.S = w.section(s, &t.CRC)
	w.hdr.Tensors = append(w.hdr.Tensors, t)
}

func (w *cacheWriter) vector(name string, v []float32) {
	if name == headVector && w.head > 0 {
		b := asBytes(v)
		t := cacheTensor{Name: name, Cols: len(v), F: cacheSection{Off: 0, Len: int64(len(b))}}
		if int64(len(b)) > w.head {
			w.err = cmp.Or(w.err, fmt.Errorf("cache writer: %s is %d bytes, %d were kept for it", name, len(b), w.head))
			return
		}
		t.CRC = crc32.Update(0, castagnoli, b)
		if w.err == nil {
			_, w.err = w.f.WriteAt(b, 0)
		}
		w.head = 0
		w.hdr.Tensors = append(w.hdr.Tensors, t)
		return
	}
	t := cacheTensor{Name: name, Cols: len(v)}
	t.F = w.section(asBytes(v), &t.CRC)
	w.hdr.Tensors = append(w.hdr.Tensors, t)
}

// finish writes the header and the trailer and closes the file.
func (w *cacheWriter) finish() error {
	if w.head > 0 && w.err == nil {
		w.err = fmt.Errorf("cache writer: no %s", headVector)
	}
	hb, err := json.Marshal(&w.hdr)
	if err != nil && w.err == nil {
		w.err = err
	}
	off := w.off
	w.write(hb)
	var tr [trailerLen]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(off))
	binary.LittleEndian.PutUint64(tr[8:], uint64(len(hb)))
	binary.LittleEndian.PutUint32(tr[16:], crc32.Checksum(hb, castagnoli))
	binary.LittleEndian.PutUint32(tr[20:], cacheVersion)
	copy(tr[24:], cacheMagic)
	w.write(tr[:])
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

// cacheReader is an open, checked cache file.
type cacheReader struct {
	path   string
	f      *os.File // open while mapped (Model.positions reads it)
	data   []byte
	unmap  func() error
	byName map[string]*cacheTensor
}

// errCacheMissing: no cache file for this key.
var errCacheMissing = errors.New("no cache file")

// openCache maps path and checks it against key: trailer, header CRC,
// version, key, every section inside the data and aligned, every tensor's
// CRC. Any error means the file cannot be used (rebuild it).
func openCache(path string, key *cacheKey) (*cacheReader, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errCacheMissing
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	size := fi.Size()
	if size < trailerLen {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes: truncated", path, size)
	}
	data, unmap, err := mapFile(f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	r := &cacheReader{path: path, f: f, data: data, unmap: unmap}
	if err := r.check(key); err != nil {
		r.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func (r *cacheReader) check(key *cacheKey) error {
	size := int64(len(r.data))
	tr := r.data[size-trailerLen:]
	if string(tr[24:32]) != cacheMagic {
		return errors.New("not a cache file, or truncated")
	}
	if v := binary.LittleEndian.Uint32(tr[20:]); v != cacheVersion {
		return fmt.Errorf("format version %d, want %d", v, cacheVersion)
	}
	hoff, hlen := binary.LittleEndian.Uint64(tr[0:]), binary.LittleEndian.Uint64(tr[8:])
	dataEnd := size - trailerLen
	if hlen > maxCacheHdr || hoff > uint64(dataEnd) || hlen != uint64(dataEnd)-hoff {
		return fmt.Errorf("header at %d, %d bytes, does not fit the file (%d bytes)", hoff, hlen, size)
	}
	hb := r.data[hoff:dataEnd]
	if crc32.Checksum(hb, castagnoli) != binary.LittleEndian.Uint32(tr[16:]) {
		return errors.New("header checksum mismatch")
	}
	var h cacheHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.Version != cacheVersion || h.Checkpoint != key.hash || h.Size != key.size || h.Quant != key.quant ||
		h.Layout != key.layout || h.Config != key.cfg {
		return errors.New("made for another checkpoint, config, quantisation or layout")
	}
	r.byName = make(map[string]*cacheTensor, len(h.Tensors))
	for i := range h.Tensors {
		t := &h.Tensors[i]
		for _, s := range []cacheSection{t.F, t.Q, t.S} {
			if s.Len == 0 {
				continue
			}
			if s.Off < 0 || s.Len < 0 || s.Off%cacheAlign != 0 || s.Off > int64(hoff) || s.Len > int64(hoff)-s.Off {
				return fmt.Errorf("tensor %q: section [%d, +%d) outside the data", t.Name, s.Off, s.Len)
			}
		}
		if r.byName[t.Name] != nil {
			return fmt.Errorf("tensor %q twice", t.Name)
		}
		r.byName[t.Name] = t
	}
	// The checksums, largest tensor first, on up to 4 goroutines (this
	// also brings the pages in, as the first token would).
	order := make([]*cacheTensor, len(h.Tensors))
	for i := range h.Tensors {
		order[i] = &h.Tensors[i]
	}
	slices.SortFunc(order, func(a, b *cacheTensor) int { return cmp.Compare(b.F.Len+b.Q.Len+b.S.Len, a.F.Len+a.Q.Len+a.S.Len) })
	bad := make([]error, len(order))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(order), 4, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(order) {
					return
				}
				t, crc := order[i], uint32(0)
				for _, s := range []cacheSection{t.F, t.Q, t.S} {
					crc = crc32.Update(crc, castagnoli, r.data[s.Off:s.Off+s.Len])
				}
				if crc != t.CRC {
					bad[i] = fmt.Errorf("tensor %q: checksum mismatch", t.Name)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(bad...)
}

// hugeProbeName is the file in the cache folder that remembers hugeFiles'
// answer for a kernel release.
const hugeProbeName = "hugepages.gpt2cache.txt"

// huge says whether the kernel maps at least 90 % of the file with huge
// pages, as the weights copied into the arena are: then they can stay
// mapped, loaded without the copy (new memory costs a fault per page; a
// q8 cache hit of the 124M model copied for 100-330 ms here) and shared by
// every process that maps the file. When less of it is, but the kernel
// can (hugeFiles), its pages are read into the page cache again, in huge
// folios (rereadHuge): a file just written, or read with read(), is held
// in smaller ones. Files under 16 MB (a few huge pages, quick to copy)
// are not tried.
func (r *cacheReader) huge() bool {
	if len(r.data) < 16<<20 {
		return false
	}
	f := mappedHuge(r.data)
	if f >= 0.9 {
		return true
	}
	if f < 0 || !hugeFiles(filepath.Dir(r.path)) {
		return false
	}
	rereadHuge(r.path, r.data)
	return mappedHuge(r.data) >= 0.9
}

func (r *cacheReader) close() error {
	if r.unmap == nil {
		return nil
	}
	err := r.unmap()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.unmap, r.data, r.f = nil, nil, nil
	return err
}

// viewOf is section s as a slice of T (nil when empty).
func viewOf[T float32 | int8 | uint16](data []byte, s cacheSection) []T {
	var zero T
	n := s.Len / int64(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&data[s.Off])), n)
}

// matrix is the stored matrix name, checked against the shape the config
// implies: the sections must hold exactly what the kernels read.
func (r *cacheReader) matrix(name string, rows, cols, pw int) (matrix, error) {
	t := r.byName[name]
	if t == nil {
		return matrix{}, fmt.Errorf("%s: tensor %q missing", r.path, name)
	}
	m := matrix{rows: t.Rows, cols: t.Cols, pw: t.PW, nblk: t.NBlk, qbits: t.QBits, smul: t.Smul}
	wantBlk := 0
	if m.qbits > 0 {
		wantBlk = (cols + qblock - 1) / qblock
	}
	nf, nq, ns, ok := m.storage()
	if !ok || m.rows != rows || m.cols != cols || m.pw != pw || m.nblk != wantBlk ||
		t.F.Len != int64(nf)*4 || t.Q.Len != int64(nq) || t.S.Len != int64(ns)*2 {
		return matrix{}, fmt.Errorf("%s: tensor %q is stored as %dx%d (panels %d, %d bits, %d blocks, sections %d/%d/%d bytes), not as this model needs",
			r.path, name, t.Rows, t.Cols, t.PW, t.QBits, t.NBlk, t.F.Len, t.Q.Len, t.S.Len)
	}
	m.f, m.q, m.s = viewOf[float32](r.data, t.F), viewOf[int8](r.data, t.Q), viewOf[uint16](r.data, t.S)
	return m, nil
}

func (r *cacheReader) vector(name string, n int) ([]float32, error) {
	t := r.byName[name]
	if t == nil {
		return nil, fmt.Errorf("%s: tensor %q missing", r.path, name)
	}
	if t.Rows != 0 || t.Cols != n || t.F.Len != int64(n)*4 || t.Q.Len != 0 || t.S.Len != 0 {
		return nil, fmt.Errorf("%s: tensor %q is stored with %d values, the model needs %d", r.path, name, t.Cols, n)
	}
	return viewOf[float32](r.data, t.F), nil
}
