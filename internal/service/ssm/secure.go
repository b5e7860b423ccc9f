package ssm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// SecureString values are encrypted at rest with a key of the account:
// AES-256-GCM, the parameter's ARN as additional data (as AWS passes it to
// KMS as the encryption context PARAMETER_ARN), so that a value copied to
// another parameter does not decrypt. Until KMS exists the KeyId a request
// names ("alias/aws/ssm" by default) is recorded and shown, and every
// value of the account is sealed with its one key.
//
// The stored form, which GetParameter answers without WithDecryption as
// AWS answers KMS's ciphertext, is base64 of a version byte, the nonce and
// the sealed value.

// defaultKeyID is the AWS managed key Parameter Store uses by default.
const defaultKeyID = "alias/aws/ssm"

// cipherVersion is the first byte of a sealed value.
const cipherVersion = 1

// keyring holds each account's key, created on first use and kept in dir
// (0600 files named after the account), or only in memory when dir is "".
type keyring struct {
	dir  string
	mu   sync.Mutex
	keys map[string]cipher.AEAD
}

func newKeyring(dir string) *keyring { return &keyring{dir: dir, keys: map[string]cipher.AEAD{}} }

// aead is account's key, made (and written) if it has none yet.
func (k *keyring) aead(account string) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.keys[account]; ok {
		return a, nil
	}
	key, err := k.load(account)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ssm: key of account %s: %w", account, err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("ssm: key of account %s: %w", account, err)
	}
	k.keys[account] = a
	return a, nil
}

// load reads account's key from dir, or makes one and writes it durably
// before any value is sealed with it.
func (k *keyring) load(account string) ([]byte, error) {
	if k.dir == "" {
		return newKey(), nil
	}
	path := filepath.Join(k.dir, account+".key")
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != 32 {
			return nil, fmt.Errorf("ssm: key file %s: %d bytes, want 32", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ssm: read key: %w", err)
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return nil, fmt.Errorf("ssm: key directory: %w", err)
	}
	key = newKey()
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ssm: write key: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(k.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("ssm: write key: %w", err)
	}
	return key, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func newKey() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return key
}

// seal encrypts a SecureString value of the parameter arn.
func (k *keyring) seal(account, arn, value string) (string, error) {
	a, err := k.aead(account)
	if err != nil {
		return "", err
	}
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(value)+a.Overhead())
	out[0] = cipherVersion
	_, _ = rand.Read(out[1:])
	out = a.Seal(out, out[1:], []byte(value), []byte(arn))
	return base64.StdEncoding.EncodeToString(out), nil
}

// open decrypts what seal made for the parameter arn.
func (k *keyring) open(account, arn, sealed string) (string, error) {
	a, err := k.aead(account)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < 1+a.NonceSize() || raw[0] != cipherVersion {
		return "", fmt.Errorf("ssm: sealed value of %s is malformed", arn)
	}
	plain, err := a.Open(nil, raw[1:1+a.NonceSize()], raw[1+a.NonceSize():], []byte(arn))
	if err != nil {
		return "", fmt.Errorf("ssm: value of %s does not decrypt with the account's key: %w", arn, err)
	}
	return string(plain), nil
}
