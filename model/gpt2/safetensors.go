package gpt2

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"unsafe"
)

// maxHeaderLen bounds the JSON header of a safetensors file (the format's
// own reference implementation uses 100 MB).
const maxHeaderLen = 100 << 20

// tensorInfo is one entry of a safetensors header.
type tensorInfo struct {
	Name  string
	DType string
	Shape []int
	Begin int64 // absolute file offset of the first byte
	End   int64 // absolute file offset past the last byte
}

func (t *tensorInfo) numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

func dtypeSize(dt string) int {
	switch dt {
	case "F32", "I32", "U32":
		return 4
	case "F16", "BF16", "I16", "U16":
		return 2
	case "F64", "I64", "U64":
		return 8
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// parseSafetensorsHeader reads and checks the header of a safetensors file
// of the given size: the header length is sane, every dtype is known, every
// tensor's shape times its dtype size equals its byte span, spans lie inside
// the file and do not overlap. Nothing is allocated in proportion to a size
// read from the file before it has been checked against the file's size.
func parseSafetensorsHeader(r io.ReaderAt, size int64) (map[string]*tensorInfo, error) {
	if size < 8 {
		return nil, fmt.Errorf("file is %d bytes, too short for a safetensors header", size)
	}
	var lb [8]byte
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		return nil, fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n < 2 || n > maxHeaderLen || n > uint64(size-8) {
		return nil, fmt.Errorf("header length %d does not fit the file (%d bytes): truncated or not a safetensors file", n, size)
	}
	hb := make([]byte, n)
	if _, err := r.ReadAt(hb, 8); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %w", err)
	}
	base := int64(8 + n)
	dataLen := size - base
	out := make(map[string]*tensorInfo, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			DType       string   `json:"dtype"`
			Shape       []int64  `json:"shape"`
			DataOffsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("tensor %q: bad header entry: %w", name, err)
		}
		es := dtypeSize(e.DType)
		if es == 0 {
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("tensor %q: data_offsets needs 2 numbers, has %d", name, len(e.DataOffsets))
		}
		b, en := e.DataOffsets[0], e.DataOffsets[1]
		if b > en || en > uint64(dataLen) {
			return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d data bytes: truncated file?", name, b, en, dataLen)
		}
		if len(e.Shape) > 8 {
			return nil, fmt.Errorf("tensor %q: %d dimensions", name, len(e.Shape))
		}
		total := uint64(es)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension %d", name, d)
			}
			hi, lo := bits.Mul64(total, uint64(d))
			if hi != 0 || lo > uint64(dataLen) {
				return nil, fmt.Errorf("tensor %q: shape %v is larger than the file", name, e.Shape)
			}
			total = lo
			shape[i] = int(d)
		}
		if total != en-b {
			return nil, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes but data_offsets span %d", name, e.Shape, e.DType, total, en-b)
		}
		out[name] = &tensorInfo{Name: name, DType: e.DType, Shape: shape, Begin: base + int64(b), End: base + int64(en)}
	}
	list := make([]*tensorInfo, 0, len(out))
	for _, t := range out {
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Begin != list[j].Begin {
			return list[i].Begin < list[j].Begin
		}
		return list[i].Name < list[j].Name
	})
	for i := 1; i < len(list); i++ {
		if list[i].Begin < list[i-1].End {
			return nil, fmt.Errorf("tensors %q and %q overlap", list[i-1].Name, list[i].Name)
		}
	}
	return out, nil
}

// safetensorsFile is an open, checked safetensors file.
type safetensorsFile struct {
	path    string
	f       *os.File
	tensors map[string]*tensorInfo
}

func openSafetensors(path string) (*safetensorsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gpt2: %w", err)
	}
	ts, err := parseSafetensorsHeader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gpt2: %s: %w", path, err)
	}
	return &safetensorsFile{path: path, f: f, tensors: ts}, nil
}

func (s *safetensorsFile) Close() error { return s.f.Close() }

// readFloat32 reads a tensor as float32 into dst (len == numel), converting
// F32, F16 and BF16; buf is scratch space that may be reused.
func (s *safetensorsFile) readFloat32(t *tensorInfo, dst []float32, buf []byte) ([]byte, error) {
	span := int(t.End - t.Begin)
	if t.DType == "F32" && littleEndian && span == 4*len(dst) {
		// the file's bytes are the values: read them in place
		if _, err := s.f.ReadAt(asBytes(dst), t.Begin); err != nil {
			return buf, fmt.Errorf("gpt2: %s: read tensor %q: %w", s.path, t.Name, err)
		}
		return buf, s.checkFinite(t, dst)
	}
	if cap(buf) < span {
		buf = make([]byte, span)
	}
	buf = buf[:span]
	if _, err := s.f.ReadAt(buf, t.Begin); err != nil {
		return buf, fmt.Errorf("gpt2: %s: read tensor %q: %w", s.path, t.Name, err)
	}
	switch t.DType {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
	case "F16":
		for i := range dst {
			dst[i] = f16ToF32(binary.LittleEndian.Uint16(buf[2*i:]))
		}
	case "BF16":
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(buf[2*i:])) << 16)
		}
	default:
		return buf, fmt.Errorf("gpt2: %s: tensor %q has dtype %s; want F32, F16 or BF16", s.path, t.Name, t.DType)
	}
	return buf, s.checkFinite(t, dst)
}

// littleEndian: float32 values in memory are laid out as in a safetensors
// file.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// checkFinite refuses NaN and infinite values of tensor t (when
// checkFinite is on).
func (s *safetensorsFile) checkFinite(t *tensorInfo, dst []float32) error {
	if checkFinite {
		if i := firstNonFinite(dst); i >= 0 {
			what := "NaN"
			if !math.IsNaN(float64(dst[i])) {
				what = "an infinite value"
			}
			return fmt.Errorf("gpt2: %s: tensor %q holds %s at index %d (shape %v): %w", s.path, t.Name, what, i, t.Shape, ErrBrokenWeights)
		}
	}
	return nil
}

// checkFinite makes the loader refuse NaN and infinite weights; off only
// in the benchmark that measures what the check costs.
var checkFinite = true

// firstNonFinite is the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float32) int {
	// The exponent field plus one overflows into the sign bit exactly when
	// it is all ones (NaN, ±Inf): OR that over a block, branch-free, and
	// look for the index only in a block that has one.
	const blk = 256
	for i0 := 0; i0 < len(v); i0 += blk {
		part := v[i0:min(i0+blk, len(v))]
		var acc uint32
		j := 0
		for ; j+4 <= len(part); j += 4 {
			acc |= math.Float32bits(part[j])&0x7f800000 + 0x00800000 |
				math.Float32bits(part[j+1])&0x7f800000 + 0x00800000 |
				math.Float32bits(part[j+2])&0x7f800000 + 0x00800000 |
				math.Float32bits(part[j+3])&0x7f800000 + 0x00800000
		}
		for ; j < len(part); j++ {
			acc |= math.Float32bits(part[j])&0x7f800000 + 0x00800000
		}
		if acc&0x80000000 == 0 {
			continue
		}
		for i, x := range part {
			if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
				return i0 + i
			}
		}
	}
	return -1
}

// f16ToF32 converts an IEEE 754 half-precision value.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: mant * 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
