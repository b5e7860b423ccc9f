package state

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Alphabets for AWS-shaped credentials. Both have a power-of-two size so a
// random byte masked down to the alphabet is uniformly distributed.
const (
	upperBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// randomBytes fills n bytes from crypto/rand. IDs must be unguessable and
// collision-free across restarts, which math/rand does not give us; since
// Go 1.24 crypto/rand.Read never returns an error.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string {
	return hex.EncodeToString(randomBytes((n + 1) / 2))[:n]
}

func randomFrom(alphabet string, n int) string {
	b := randomBytes(n)
	mask := byte(len(alphabet) - 1)
	for i := range b {
		b[i] = alphabet[b[i]&mask]
	}
	return string(b)
}

// NewID returns a modern AWS resource id: prefix + "-" + 17 lowercase hex
// digits (e.g. "vpc-0a1b2c3d4e5f60718"), the form EC2 has used since 2016.
func NewID(prefix string) string { return prefix + "-" + randomHex(17) }

// NewShortID returns a legacy 8-hex-digit id (e.g. "sg-1a2b3c4d"), for the
// few resources and fixtures that still use that shape.
func NewShortID(prefix string) string { return prefix + "-" + randomHex(8) }

// ValidID reports whether s is prefix + "-" + 8 or 17 lowercase hex digits,
// the two shapes AWS accepts, so services can reject malformed ids with
// their *.Malformed errors before looking anything up.
func ValidID(prefix, s string) bool {
	if len(s) <= len(prefix)+1 || s[:len(prefix)] != prefix || s[len(prefix)] != '-' {
		return false
	}
	h := s[len(prefix)+1:]
	if len(h) != 8 && len(h) != 17 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewRequestID returns a random UUID v4, the x-amz-request-id shape most
// AWS services use.
func NewRequestID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewAccessKeyID returns prefix + 16 characters from AWS's upper-case
// base32 alphabet; with AWS's 4-character prefixes ("AKIA" long-term,
// "ASIA" temporary) that is the real 20-character shape.
func NewAccessKeyID(prefix string) string { return prefix + randomFrom(upperBase32, 16) }

// NewSecretKey returns a 40-character secret access key drawn from the
// base64 alphabet, like AWS's.
func NewSecretKey() string { return base64.StdEncoding.EncodeToString(randomBytes(30)) }

// NewUniqueID returns prefix + 17 upper-case base32 characters, the shape of
// IAM unique ids (e.g. "AROA..." roles, "AIDA..." users, "ANPA..." policies).
func NewUniqueID(prefix string) string { return prefix + randomFrom(upperBase32, 17) }
