//go:build ignore

// gen_r50k writes r50k_tokens.bin, the bytes of every r50k_base token (the
// built-in tokenizer's decoding table), from github.com/tiktoken-go/tokenizer:
// 50257 little-endian uint32 end offsets (token id's bytes end at
// offset[id]; the first start at 0), then the bytes one after the other.
// The end-of-text token (50256) has no bytes: it decodes to EndOfText.
// TestBuiltinTokenBytes checks the file against the tokenizer.
package main

import (
	"encoding/binary"
	"log"
	"os"

	"github.com/tiktoken-go/tokenizer"
)

func main() {
	c, err := tokenizer.Get(tokenizer.R50kBase)
	if err != nil {
		log.Fatal(err)
	}
	const n = 50257
	var blob []byte
	offs := make([]byte, 4*n)
	for id := 0; id < n-1; id++ {
		s, err := c.Decode([]uint{uint(id)})
		if err != nil {
			log.Fatalf("token %d: %v", id, err)
		}
		blob = append(blob, s...)
		binary.LittleEndian.PutUint32(offs[4*id:], uint32(len(blob)))
	}
	binary.LittleEndian.PutUint32(offs[4*(n-1):], uint32(len(blob)))
	if err := os.WriteFile("r50k_tokens.bin", append(offs, blob...), 0o644); err != nil {
		log.Fatal(err)
	}
}
