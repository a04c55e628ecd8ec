package gpt2

import (
	"encoding/json"
	"github.com/tiktoken-go/tokenizer"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const fakeDir = "testdata/hf-fake-gpt2"

var tokCorpus = []string{
	"",
	"Hello world",
	"Hello, world! How's it going? I'm fine, you'll see; we've done it, they're here, he'd go.",
	"Dear Sir or Madam,\n\nI am writing to you about invoice #12345 dated 2024-03-15.\n",
	"   leading spaces and trailing   ",
	"tabs\tand\t\ttabs\n\n\n\nnewlines \n \n  \n",
	"numbers 1234567890 3.14159 1,000,000 ¼ ½ ٣ ४",
	"Ünïcödé: naïve café, Straße, Ελληνικά, русский, 日本語のテキスト, 한국어, עברית, العربية",
	"emoji 😀👍🏽 🇩🇪 family 👨‍👩‍👧 and zero\u200bwidth",
	"CAPS'S 'quoted' ''double'' it's 'S 'T 'LL 'll's",
	"code: func main() { fmt.Println(\"hi\") } // x := a[i]+b*c",
	"<|endoftext|>after special<|endoftext|><|endoftext|> and <|endoftext| not special",
	"mixed\r\nline endings\r\n\r\nend",
	"\u00a0nbsp\u2003em space\u3000ideographic space x",
	strings.Repeat("a", 300) + " " + strings.Repeat("ab ", 50),
	"!!!???... ---=== ***",
	"  \n\n  x",
	" \n",
	"\n",
	"  ",
}

func TestTokenizersAgree(t *testing.T) {
	ref, err := BuiltinTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	own, err := LoadTokenizer(fakeDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tokCorpus {
		a, b := ref.Encode(s), own.Encode(s)
		if !slices.Equal(a, b) {
			t.Errorf("%q:\n r50k: %v\n own:  %v", s, a, b)
		}
		if got := own.Decode(b); got != s {
			t.Errorf("own round trip %q -> %q", s, got)
		}
		if got := ref.Decode(a); got != s {
			t.Errorf("r50k round trip %q -> %q", s, got)
		}
	}
	// Known ids (GPT-2's encoder.json).
	for s, want := range map[string][]int{
		"Hello world":   {15496, 995},
		"<|endoftext|>": {50256},
		" the":          {262},
	} {
		if got := own.Encode(s); !slices.Equal(got, want) {
			t.Errorf("own %q = %v, want %v", s, got, want)
		}
		if got := ref.Encode(s); !slices.Equal(got, want) {
			t.Errorf("r50k %q = %v, want %v", s, got, want)
		}
	}
}

// Every token of vocab.json decodes to the same bytes in both tokenizers.
func TestTokenizerVocabularyMatches(t *testing.T) {
	ref, _ := BuiltinTokenizer()
	own, err := LoadTokenizer(fakeDir)
	if err != nil {
		t.Fatal(err)
	}
	if own.VocabSize() != 50257 || ref.VocabSize() != 50257 {
		t.Fatalf("vocab sizes %d %d", own.VocabSize(), ref.VocabSize())
	}
	for id := 0; id < 50257; id++ {
		if a, b := ref.TokenBytes(id), own.TokenBytes(id); string(a) != string(b) {
			t.Fatalf("id %d: r50k %q own %q", id, a, b)
		}
	}
	for i := 0; i < 256; i++ {
		if b := own.TokenBytes(i); len(b) != 1 || b[0] != byteOrder[i] {
			t.Fatalf("byte token %d = %q", i, b)
		}
	}
}

func TestTokenizerInvalidUTF8(t *testing.T) {
	ref, _ := BuiltinTokenizer()
	own, _ := LoadTokenizer(fakeDir)
	s := "ab\xff\xfe cd \xe2\x82 end\x80"
	a, b := ref.Encode(s), own.Encode(s)
	if !slices.Equal(a, b) || ref.Decode(a) != s || own.Decode(b) != s {
		t.Fatalf("invalid utf8: %v %v", a, b)
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadTokenizer(dir); err == nil || !strings.Contains(err.Error(), "vocab") {
		t.Fatalf("missing vocab: %v", err)
	}
	v, _ := json.Marshal(map[string]int{"a": 0})
	os.WriteFile(filepath.Join(dir, "vocab.json"), v, 0o644)
	os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\na b c\n"), 0o644)
	if _, err := LoadTokenizer(dir); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad merges: %v", err)
	}
}

func FuzzTokenizerRoundTrip(f *testing.F) {
	for _, s := range tokCorpus {
		f.Add(s)
	}
	ref, err := BuiltinTokenizer()
	if err != nil {
		f.Fatal(err)
	}
	own, err := LoadTokenizer(fakeDir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := own.Encode(s)
		if got := own.Decode(b); got != s {
			t.Fatalf("own round trip %q -> %q (%v)", s, got, b)
		}
		a := ref.Encode(s)
		if got := ref.Decode(a); got != s {
			t.Fatalf("r50k round trip %q -> %q (%v)", s, got, a)
		}
		// U+007F is worked around in the r50k wrapper (tiktoken-go drops it),
		// which may split a piece GPT-2 would keep whole.
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0x7f) && !slices.Equal(a, b) {
			t.Fatalf("%q: r50k %v own %v", s, a, b)
		}
	})
}

// The embedded decoding table (r50k_tokens.bin, see gen_r50k.go) is the
// tiktoken codec's: every token decodes to the same bytes, and an encoded
// text decodes back to itself.
func TestBuiltinTokenBytes(t *testing.T) {
	c, err := tokenizer.Get(tokenizer.R50kBase)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := BuiltinTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	for id := 0; id < EndOfTextID; id++ {
		want, err := c.Decode([]uint{uint(id)})
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.TokenBytes(id); string(got) != want {
			t.Fatalf("token %d: table %q, tiktoken %q", id, got, want)
		}
	}
	if got := string(tok.TokenBytes(EndOfTextID)); got != EndOfText {
		t.Errorf("end of text decodes to %q", got)
	}
	for _, id := range []int{-1, 50257, 1 << 40} {
		if got := tok.TokenBytes(id); got != nil {
			t.Errorf("id %d decodes to %q", id, got)
		}
	}
	s := "Dear Ms. Müller, your order #4411 shipped.<|endoftext|>\xff"
	if got := tok.Decode(tok.Encode(s)); got != s {
		t.Errorf("round trip: %q", got)
	}
}
