package gpt2

import (
	"bufio"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// EndOfText is GPT-2's only special token, and its id.
const (
	EndOfText   = "<|endoftext|>"
	EndOfTextID = 50256
)

// Tokenizer turns text into GPT-2 token ids and back.
//
// Encode recognises the literal text "<|endoftext|>" as the special token.
// Bytes that are not valid UTF-8 are each encoded as their single-byte token,
// so Decode(Encode(s)) == s for every string s.
type Tokenizer interface {
	Encode(text string) []int
	// Decode joins the bytes of the tokens; the result may end inside a
	// multi-byte character when ids stop there. Unknown ids decode to "".
	Decode(ids []int) string
	// TokenBytes is the raw bytes of one token (nil for an unknown id).
	TokenBytes(id int) []byte
	VocabSize() int
}

// byteOrder is GPT-2's bytes_to_unicode ordering: the printable bytes
// first, then the rest. Token id i (i < 256) is the single byte
// byteOrder[i], in GPT-2's vocabulary and in r50k_base alike.
var byteOrder, byteRune = func() ([256]byte, [256]rune) {
	var order [256]byte
	var runes [256]rune
	n := 0
	seen := [256]bool{}
	for _, r := range [][2]int{{'!', '~'}, {0xA1, 0xAC}, {0xAE, 0xFF}} {
		for b := r[0]; b <= r[1]; b++ {
			order[n] = byte(b)
			runes[b] = rune(b)
			seen[b] = true
			n++
		}
	}
	extra := 0
	for b := 0; b < 256; b++ {
		if !seen[b] {
			order[n] = byte(b)
			runes[b] = rune(256 + extra)
			extra++
			n++
		}
	}
	return order, runes
}()

var byteID = func() [256]int {
	var ids [256]int
	for i, b := range byteOrder {
		ids[b] = i
	}
	return ids
}()

// segment splits text at "<|endoftext|>" and at bytes that are not valid
// UTF-8, calling text for each valid run, special for the special token and
// badByte for each invalid byte. Both tokenizers share it, so they agree on
// every input, not only on valid UTF-8.
func segment(s string, text func(string), special func(), badByte func(byte)) {
	for len(s) > 0 {
		// next special token
		cut := strings.Index(s, EndOfText)
		part := s
		if cut >= 0 {
			part = s[:cut]
		}
		for len(part) > 0 {
			i := 0
			for i < len(part) {
				r, n := utf8.DecodeRuneInString(part[i:])
				if r == utf8.RuneError && n == 1 {
					break
				}
				i += n
			}
			if i > 0 {
				text(part[:i])
			}
			if i < len(part) {
				badByte(part[i])
				i++
			}
			part = part[i:]
		}
		if cut < 0 {
			return
		}
		special()
		s = s[cut+len(EndOfText):]
	}
}

// --- built-in vocabulary: tiktoken's r50k_base ---

// r50kTokens is every r50k_base token's bytes, for decoding without the
// encoder's tables (2.5 MB of heap, built on first use): see gen_r50k.go.
//
//go:generate go run gen_r50k.go
//go:embed r50k_tokens.bin
var r50kTokens []byte

type tiktokenTokenizer struct {
	once  sync.Once // makes codec, on the first Encode
	codec tokenizer.Codec
	err   error
}

var (
	builtinOnce sync.Once
	builtin     *tiktokenTokenizer
	builtinErr  error
)

// BuiltinTokenizer is GPT-2's own 50257-token encoding, embedded through
// github.com/tiktoken-go/tokenizer (r50k_base). Its encoding tables are
// built on the first Encode: a generation from token ids never needs them.
func BuiltinTokenizer() (Tokenizer, error) {
	builtinOnce.Do(func() {
		if len(r50kTokens) < 4*50257 {
			builtinErr = fmt.Errorf("gpt2: built-in r50k_base tokenizer: decoding table is %d bytes", len(r50kTokens))
			return
		}
		builtin = &tiktokenTokenizer{}
	})
	if builtinErr != nil {
		return nil, builtinErr
	}
	return builtin, nil
}

func (t *tiktokenTokenizer) VocabSize() int { return 50257 }

func (t *tiktokenTokenizer) Encode(s string) []int {
	var out []int
	segment(s, func(p string) {
		// tiktoken-go v0.10.0's regex silently drops U+007F (DEL); encode
		// it as its byte token and the text around it separately.
		for {
			i := strings.IndexByte(p, 0x7f)
			if i < 0 {
				break
			}
			out = t.encodeText(p[:i], out)
			out = append(out, byteID[0x7f])
			p = p[i+1:]
		}
		out = t.encodeText(p, out)
	}, func() { out = append(out, EndOfTextID) }, func(b byte) { out = append(out, byteID[b]) })
	return out
}

func (t *tiktokenTokenizer) encodeText(p string, out []int) []int {
	if p == "" {
		return out
	}
	t.once.Do(func() { t.codec, t.err = tokenizer.Get(tokenizer.R50kBase) })
	var ids []uint
	err := t.err
	if err == nil {
		ids, _, err = t.codec.Encode(p)
	}
	if err != nil {
		// r50k_base cannot fail on valid UTF-8; fall back to bytes.
		for i := 0; i < len(p); i++ {
			out = append(out, byteID[p[i]])
		}
		return out
	}
	for _, id := range ids {
		out = append(out, int(id))
	}
	return out
}

func (t *tiktokenTokenizer) TokenBytes(id int) []byte {
	switch {
	case id == EndOfTextID:
		return []byte(EndOfText)
	case id < 0 || id > EndOfTextID:
		return nil
	}
	const n = 4 * 50257 // the offsets, then the bytes
	var a uint32
	if id > 0 {
		a = binary.LittleEndian.Uint32(r50kTokens[4*(id-1):])
	}
	b := binary.LittleEndian.Uint32(r50kTokens[4*id:])
	return r50kTokens[n+a : n+b : n+b]
}

func (t *tiktokenTokenizer) Decode(ids []int) string {
	return decodeWith(t, ids)
}

func decodeWith(t Tokenizer, ids []int) string {
	var sb strings.Builder
	for _, id := range ids {
		sb.Write(t.TokenBytes(id))
	}
	return sb.String()
}

// --- a checkpoint's own vocab.json + merges.txt ---

type bpeTokenizer struct {
	vocab   map[string]int // byte-encoded token -> id
	dec     [][]byte       // id -> raw bytes
	ranks   map[[2]string]int
	special map[string]int

	mu    sync.Mutex
	cache map[string][]int
}

// LoadTokenizer reads a Hugging Face GPT-2 tokenizer: dir/vocab.json and
// dir/merges.txt. It implements byte-level BPE itself (GPT-2's regex
// pre-tokenisation, the byte-to-unicode map and merges by rank).
func LoadTokenizer(dir string) (Tokenizer, error) {
	vp := filepath.Join(dir, "vocab.json")
	vb, err := os.ReadFile(vp)
	if err != nil {
		return nil, fmt.Errorf("gpt2: read vocabulary: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(vb, &vocab); err != nil {
		return nil, fmt.Errorf("gpt2: parse %s: %w", vp, err)
	}
	mp := filepath.Join(dir, "merges.txt")
	mf, err := os.Open(mp)
	if err != nil {
		return nil, fmt.Errorf("gpt2: read merges: %w", err)
	}
	defer mf.Close()
	var merges [][2]string
	sc := bufio.NewScanner(mf)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), "\r")
		if line == 1 && strings.HasPrefix(l, "#version") || l == "" {
			continue
		}
		a, b, ok := strings.Cut(l, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("gpt2: %s line %d: want two symbols separated by one space, got %q", mp, line, l)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("gpt2: read %s: %w", mp, err)
	}
	return NewTokenizer(vocab, merges)
}

// NewTokenizer builds a byte-level BPE tokenizer from a vocabulary (token
// in GPT-2's byte-to-unicode spelling -> id) and merges in rank order.
func NewTokenizer(vocab map[string]int, merges [][2]string) (Tokenizer, error) {
	t := &bpeTokenizer{
		vocab:   vocab,
		ranks:   make(map[[2]string]int, len(merges)),
		special: map[string]int{},
		cache:   map[string][]int{},
	}
	maxID := -1
	for _, id := range vocab {
		if id < 0 || id > 1<<24 {
			return nil, fmt.Errorf("gpt2: vocabulary id %d out of range", id)
		}
		maxID = max(maxID, id)
	}
	t.dec = make([][]byte, maxID+1)
	unbyte := map[rune]byte{}
	for b := 0; b < 256; b++ {
		unbyte[byteRune[b]] = byte(b)
	}
	for tok, id := range vocab {
		if tok == EndOfText {
			t.special[tok] = id
			t.dec[id] = []byte(tok)
			continue
		}
		raw := make([]byte, 0, len(tok))
		ok := true
		for _, r := range tok {
			b, found := unbyte[r]
			if !found {
				ok = false
				break
			}
			raw = append(raw, b)
		}
		if ok {
			t.dec[id] = raw
		} else {
			t.dec[id] = []byte(tok) // an added token spelled as plain text
		}
	}
	for b := 0; b < 256; b++ {
		if _, ok := vocab[string(byteRune[b])]; !ok {
			return nil, fmt.Errorf("gpt2: vocabulary lacks the single-byte token for byte %#x", b)
		}
	}
	for i, m := range merges {
		if _, ok := t.ranks[m]; !ok {
			t.ranks[m] = i
		}
	}
	return t, nil
}

func (t *bpeTokenizer) VocabSize() int { return len(t.dec) }

func (t *bpeTokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.dec) {
		return nil
	}
	return t.dec[id]
}

func (t *bpeTokenizer) Decode(ids []int) string { return decodeWith(t, ids) }

func (t *bpeTokenizer) Encode(s string) []int {
	var out []int
	eot, hasEOT := t.special[EndOfText]
	segment(s, func(p string) {
		pretokenize(p, func(piece string) { out = t.bpe(piece, out) })
	}, func() {
		if hasEOT {
			out = append(out, eot)
		} else {
			out = t.bpe(EndOfText, out)
		}
	}, func(b byte) { out = append(out, t.vocab[string(byteRune[b])]) })
	return out
}

// bpe appends the ids of one pre-tokenised piece.
func (t *bpeTokenizer) bpe(piece string, out []int) []int {
	t.mu.Lock()
	ids, ok := t.cache[piece]
	t.mu.Unlock()
	if ok {
		return append(out, ids...)
	}
	syms := make([]string, 0, len(piece))
	for i := 0; i < len(piece); i++ {
		syms = append(syms, string(byteRune[piece[i]]))
	}
	for len(syms) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := t.ranks[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		a, b := syms[at], syms[at+1]
		merged := make([]string, 0, len(syms))
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
				merged = append(merged, a+b)
				i++
			} else {
				merged = append(merged, syms[i])
			}
		}
		syms = merged
	}
	ids = make([]int, 0, len(syms))
	for _, s := range syms {
		if id, ok := t.vocab[s]; ok {
			ids = append(ids, id)
			continue
		}
		// A merge result missing from the vocabulary: fall back to bytes.
		for _, r := range s {
			ids = append(ids, t.vocab[string(r)])
		}
	}
	if len(piece) <= 64 {
		t.mu.Lock()
		if len(t.cache) > 50000 {
			clear(t.cache)
		}
		t.cache[piece] = ids
		t.mu.Unlock()
	}
	return append(out, ids...)
}

// pretokenize splits valid UTF-8 text the way GPT-2's regex does:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func pretokenize(s string, emit func(string)) {
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r):
			return 1
		case unicode.IsNumber(r):
			return 2
		case unicode.IsSpace(r):
			return 3
		}
		return 4
	}
	for i := 0; i < len(s); {
		rest := s[i:]
		if rest[0] == '\'' {
			n := 0
			for _, c := range []string{"s", "t", "re", "ve", "m", "ll", "d"} {
				if strings.HasPrefix(rest[1:], c) {
					n = 1 + len(c)
					break
				}
			}
			if n > 0 {
				emit(rest[:n])
				i += n
				continue
			}
		}
		j := 0
		if rest[0] == ' ' && len(rest) > 1 {
			r, _ := utf8.DecodeRuneInString(rest[1:])
			if class(r) != 3 {
				j = 1
			}
		}
		r, n := utf8.DecodeRuneInString(rest[j:])
		c := class(r)
		if c != 3 {
			j += n
			for j < len(rest) {
				r, n := utf8.DecodeRuneInString(rest[j:])
				if class(r) != c {
					break
				}
				j += n
			}
			emit(rest[:j])
			i += j
			continue
		}
		// whitespace run
		j = 0
		last := 0
		runes := 0
		for j < len(rest) {
			r, n := utf8.DecodeRuneInString(rest[j:])
			if class(r) != 3 {
				break
			}
			last = j
			j += n
			runes++
		}
		if j < len(rest) && runes > 1 {
			j = last // leave the last space for the next token
		}
		emit(rest[:j])
		i += j
	}
}
