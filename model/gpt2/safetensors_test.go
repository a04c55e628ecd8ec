package gpt2

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func stFile(header string, data int) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestSafetensorsHeaderErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<62), "{}"...), "header length"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length"},
		{"not json", stFile("{nope", 0), "not a JSON"},
		{"dtype", stFile(`{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}}`, 4), `tensor "a": unknown dtype`},
		{"offsets past end", stFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), `tensor "a": data_offsets [0, 16] outside`},
		{"shape vs span", stFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 16), `needs 12 bytes but data_offsets span 8`},
		{"giant shape", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`, 8), "larger than the file"},
		{"negative dim", stFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, 8), "negative"},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), "overlap"},
		{"reversed offsets", stFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, 8), "outside"},
	} {
		_, err := parseSafetensorsHeader(bytes.NewReader(c.file), int64(len(c.file)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	ok := stFile(`{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[],"data_offsets":[8,10]}}`, 10)
	ts, err := parseSafetensorsHeader(bytes.NewReader(ok), int64(len(ok)))
	if err != nil || len(ts) != 2 || ts["b"].numel() != 1 {
		t.Fatalf("good header: %v %v", ts, err)
	}
}

// A truncated or corrupted checkpoint fails to load with an error naming
// the file (and the tensor), never a panic.
func TestLoadCorrupt(t *testing.T) {
	src := filepath.Join("testdata", "tiny-f16")
	data, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(src, "config.json"))
	write := func(b []byte) string {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "config.json"), cfg, 0o644)
		os.WriteFile(filepath.Join(d, "model.safetensors"), b, 0o644)
		return d
	}
	for _, n := range []int{0, 5, 100, len(data) / 2, len(data) - 1} {
		d := write(data[:n])
		_, err := Load(d, Options{})
		if err == nil || !strings.Contains(err.Error(), "model.safetensors") {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	// flip bytes in the header
	for i := 8; i < 200; i += 7 {
		b := append([]byte(nil), data...)
		b[i] ^= 0x5a
		Load(write(b), Options{}) // must not panic; may or may not fail
	}
	// a tensor with the wrong shape for config.json
	var c map[string]any
	json.Unmarshal(cfg, &c)
	c["n_embd"] = 48
	cb, _ := json.Marshal(c)
	d := write(data)
	os.WriteFile(filepath.Join(d, "config.json"), cb, 0o644)
	if _, err := Load(d, Options{}); err == nil || !strings.Contains(err.Error(), "wte.weight") {
		t.Errorf("shape mismatch: %v", err)
	}
	// missing tensors
	hdr := `{"wte.weight":{"dtype":"F32","shape":[300,40],"data_offsets":[0,48000]}}`
	if _, err := Load(write(stFile(hdr, 48000)), Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing tensor: %v", err)
	}
	if _, err := Load(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := Load(src, Options{Quant: "q3"}); err == nil {
		t.Error("q3 accepted")
	}
}

func FuzzSafetensorsHeader(f *testing.F) {
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Add(stFile(`{"__metadata__":{"x":"y"},"a":{"dtype":"F16","shape":[2,1],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, 6))
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,8]}}`, 8))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := parseSafetensorsHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for name, ti := range ts {
			if ti.Begin < 8 || ti.End > int64(len(b)) || ti.Begin > ti.End {
				t.Fatalf("%q: span [%d,%d) outside %d bytes", name, ti.Begin, ti.End, len(b))
			}
			if int64(ti.numel()*dtypeSize(ti.DType)) != ti.End-ti.Begin {
				t.Fatalf("%q: size mismatch", name)
			}
		}
	})
}

func TestLoadFixture(t *testing.T) {
	var calls int
	var last, total int64
	m, err := Load(fakeDir, Options{Progress: func(d, tt int64) { calls++; last, total = d, tt }})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last != total || total == 0 {
		t.Errorf("progress: %d calls, %d/%d", calls, last, total)
	}
	if m.Name() != "hf-fake-gpt2 (local)" || m.Config().NEmbd != 2 || m.Config().VocabSize != 50257 {
		t.Errorf("name %q config %+v", m.Name(), m.Config())
	}
	if _, ok := m.Tokenizer().(*bpeTokenizer); !ok {
		t.Errorf("fixture should use its own vocab.json/merges.txt, got %T", m.Tokenizer())
	}
}

func TestConfigs(t *testing.T) {
	// Parameter counts of the published checkpoints (lm_head tied).
	for name, want := range map[string]int64{"gpt2": 124439808, "gpt2-medium": 354823168, "gpt2-large": 774030080, "gpt2-xl": 1557611200, "distilgpt2": 81912576} {
		if got := Configs[name].Params(); got != want {
			t.Errorf("%s: %d parameters, want %d", name, got, want)
		}
		if err := Configs[name].validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	m, err := Load(filepath.Join("testdata", "tiny-f32"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Tokenizer().(*tiktokenTokenizer); !ok {
		t.Errorf("a folder without vocab.json should use the built-in tokenizer, got %T", m.Tokenizer())
	}
	if m.Config().NLayer != 2 || m.Config().inner() != 80 || m.Config().EOSTokenID != 383 {
		t.Errorf("config %+v", m.Config())
	}
}
