package cred

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/argon2"
)

// The encrypted file is
//
//	magic "DBCRED1\n" | kdf 1 (Argon2id) | time u32 | memory KiB u32 |
//	threads u8 | salt 16 | check 16 | nonce 12 | AES-256-GCM ciphertext
//
// with the big-endian header (all before the ciphertext) as the GCM's
// additional data. Argon2id derives 64 bytes from the passphrase and the
// salt: the first 32 are the AES key, the last 32 key an HMAC-SHA256 whose
// first 16 bytes over a fixed text are the check. A wrong passphrase fails
// the check; a right one whose ciphertext does not open means the file was
// damaged. The plaintext is JSON: {"credentials": {NAME: {user, secret}}}.

var sealMagic = []byte("DBCRED1\n")

const (
	kdfArgon2id = 1
	saltLen     = 16
	checkLen    = 16
	nonceLen    = 12
	headerLen   = 8 + 1 + 4 + 4 + 1 + saltLen + checkLen + nonceLen
	// MaxSealFile bounds the file read (a damaged or foreign file could be
	// anything).
	MaxSealFile = 16 << 20
)

// The Argon2id cost of new files (RFC 9106's second recommendation). Files
// keep their own cost in the header; parsing accepts a bounded range.
var (
	argonTime    uint32 = 3
	argonMemory  uint32 = 64 << 10 // KiB
	argonThreads uint8  = 4
)

const (
	maxArgonTime   = 16
	minArgonMemory = 8 << 10 // KiB
	maxArgonMemory = 1 << 20 // KiB (1 GiB)
)

// sealHeader is a parsed file header.
type sealHeader struct {
	time, memory uint32
	threads      uint8
	salt         []byte
	check        []byte
	nonce        []byte
	aad          []byte
}

type sealKey struct {
	aes, mac []byte
	salt     []byte
	time     uint32
	memory   uint32
	threads  uint8
}

type fileCred struct {
	User   string `json:"user,omitempty"`
	Secret string `json:"secret"`
}

type fileData struct {
	Credentials map[string]fileCred `json:"credentials"`
}

// ErrWrongPassphrase is returned (wrapped) when the passphrase does not
// open the file.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ErrDamaged is returned (wrapped) for a file that is not a credentials
// file or was changed.
var ErrDamaged = errors.New("the file is damaged or not a Deskbot credentials file")

// parseSeal splits a file into its header and ciphertext. It checks the
// magic, the sizes and the cost bounds, and derives nothing.
func parseSeal(b []byte) (*sealHeader, []byte, error) {
	if len(b) > MaxSealFile {
		return nil, nil, fmt.Errorf("%w: %d bytes is more than %d", ErrDamaged, len(b), MaxSealFile)
	}
	if len(b) < len(sealMagic) || !bytes.Equal(b[:len(sealMagic)], sealMagic) {
		return nil, nil, fmt.Errorf("%w: it does not start with %q", ErrDamaged, sealMagic)
	}
	if len(b) < headerLen+16 {
		return nil, nil, fmt.Errorf("%w: %d bytes is too short", ErrDamaged, len(b))
	}
	p := b[len(sealMagic):]
	if p[0] != kdfArgon2id {
		return nil, nil, fmt.Errorf("%w: unknown key derivation %d", ErrDamaged, p[0])
	}
	h := &sealHeader{
		time:    binary.BigEndian.Uint32(p[1:5]),
		memory:  binary.BigEndian.Uint32(p[5:9]),
		threads: p[9],
	}
	p = p[10:]
	h.salt, p = p[:saltLen], p[saltLen:]
	h.check, p = p[:checkLen], p[checkLen:]
	h.nonce = p[:nonceLen]
	if h.time < 1 || h.time > maxArgonTime || h.memory < minArgonMemory || h.memory > maxArgonMemory || h.threads < 1 {
		return nil, nil, fmt.Errorf("%w: Argon2id cost out of range (time %d, memory %d KiB, threads %d)", ErrDamaged, h.time, h.memory, h.threads)
	}
	h.aad = b[:headerLen]
	return h, b[headerLen:], nil
}

func deriveKey(pass string, salt []byte, t, m uint32, th uint8) *sealKey {
	k := argon2.IDKey([]byte(pass), salt, t, m, th, 64)
	return &sealKey{aes: k[:32], mac: k[32:], salt: salt, time: t, memory: m, threads: th}
}

func (k *sealKey) check() []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte("deskbot credentials passphrase check"))
	return m.Sum(nil)[:checkLen]
}

// openSeal decrypts a file with the key derived from pass (or with key,
// when it was derived for the same salt and cost).
func openSeal(b []byte, pass string, key *sealKey) (*fileData, *sealKey, error) {
	h, ct, err := parseSeal(b)
	if err != nil {
		return nil, nil, err
	}
	if key == nil || !bytes.Equal(key.salt, h.salt) || key.time != h.time || key.memory != h.memory || key.threads != h.threads {
		key = deriveKey(pass, bytes.Clone(h.salt), h.time, h.memory, h.threads)
	}
	if !hmac.Equal(key.check(), h.check) {
		return nil, nil, ErrWrongPassphrase
	}
	pt, err := gcm(key).Open(nil, h.nonce, ct, h.aad)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the passphrase is right but the contents do not decrypt", ErrDamaged)
	}
	d, err := parsePlain(pt)
	if err != nil {
		return nil, nil, err
	}
	return d, key, nil
}

// parsePlain parses the decrypted JSON.
func parsePlain(pt []byte) (*fileData, error) {
	var d fileData
	if err := json.Unmarshal(pt, &d); err != nil {
		return nil, fmt.Errorf("%w: the decrypted contents are not valid: %v", ErrDamaged, err)
	}
	if d.Credentials == nil {
		d.Credentials = map[string]fileCred{}
	}
	for name := range d.Credentials {
		if err := ValidName(name); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
	}
	return &d, nil
}

func gcm(k *sealKey) cipher.AEAD {
	blk, err := aes.NewCipher(k.aes)
	if err != nil {
		panic(err) // a 32-byte key always works
	}
	a, err := cipher.NewGCM(blk)
	if err != nil {
		panic(err)
	}
	return a
}

// seal encrypts d with key (a fresh nonce each time).
func seal(d *fileData, key *sealKey) ([]byte, error) {
	pt, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var hdr bytes.Buffer
	hdr.Write(sealMagic)
	hdr.WriteByte(kdfArgon2id)
	binary.Write(&hdr, binary.BigEndian, key.time)
	binary.Write(&hdr, binary.BigEndian, key.memory)
	hdr.WriteByte(key.threads)
	hdr.Write(key.salt)
	hdr.Write(key.check())
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	hdr.Write(nonce)
	aad := hdr.Bytes()
	return gcm(key).Seal(bytes.Clone(aad), nonce, pt, aad), nil
}

// openSealLocked returns the decrypted file, reading it and asking for the
// passphrase once per Store. create makes an empty one when there is no
// file (the passphrase given then becomes the file's).
func (s *Store) openSealLocked(create bool) (*fileData, error) {
	if s.sealed != nil {
		return s.sealed, nil
	}
	path := s.sealPath()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("the encrypted credentials file %s does not exist; set the credential again with `deskbot cred set`", path)
		}
		pass, err := s.passphrase(path)
		if err != nil {
			return nil, err
		}
		salt := make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		s.key = deriveKey(pass, salt, argonTime, argonMemory, argonThreads)
		s.sealed = &fileData{Credentials: map[string]fileCred{}}
		return s.sealed, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the encrypted credentials file: %w", err)
	}
	if _, _, err := parseSeal(b); err != nil {
		return nil, fmt.Errorf("the encrypted credentials file %s: %w; restore it from a backup, or remove it and set the credentials again", path, err)
	}
	pass, err := s.passphrase(path)
	if err != nil {
		return nil, err
	}
	d, key, err := openSeal(b, pass, nil)
	if errors.Is(err, ErrWrongPassphrase) {
		return nil, fmt.Errorf("the encrypted credentials file %s: %w (from %s or the terminal); give the passphrase the file was made with", path, err, EnvPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("the encrypted credentials file %s: %w; restore it from a backup, or remove it and set the credentials again", path, err)
	}
	s.sealed, s.key = d, key
	return d, nil
}

func (s *Store) passphrase(path string) (string, error) {
	p, err := s.pass()
	if err != nil {
		return "", fmt.Errorf("the encrypted credentials file %s needs a passphrase: %w", path, err)
	}
	if p == "" {
		return "", fmt.Errorf("the encrypted credentials file %s needs a passphrase, and the one given is empty", path)
	}
	return p, nil
}

func (s *Store) writeSealLocked(d *fileData) error {
	b, err := seal(d, s.key)
	if err != nil {
		return err
	}
	if err := writeAtomic(s.sealPath(), b); err != nil {
		s.sealed = nil // d was changed: read the file again next time
		return fmt.Errorf("write the encrypted credentials file: %w", err)
	}
	s.sealed = d
	return nil
}
