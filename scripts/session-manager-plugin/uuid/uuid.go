// Package uuid stands in for the pre-1.0 github.com/twinj/uuid that the
// session-manager-plugin was written against and that the Go module proxy
// does not serve (it serves only v1.0.0, whose API differs): the part of
// that API the plugin uses — the UUID interface, New, NewV4, SwitchFormat
// and the formats — written for minicloud, not copied. Only the plugin's
// build (../build.sh) uses it, through a replace directive.
package uuid

import (
	"crypto/rand"
	"fmt"
	"sync/atomic"
)

// UUID is a 128-bit universally unique identifier.
type UUID interface {
	// Bytes is the UUID's 16 bytes, most significant first.
	Bytes() []byte
	// String formats the UUID in the format SwitchFormat set last.
	String() string
	// Version is the UUID's version (4 for NewV4).
	Version() int
}

// Format is a printf-style layout of a UUID's five groups (the fourth
// written as two values: clock sequence high and low).
type Format string

// The formats of the original package.
const (
	Clean         Format = "%x%x%x%x%x%x"
	Curly         Format = "{%x%x%x%x%x%x}"
	Bracket       Format = "(%x%x%x%x%x%x)"
	CleanHyphen   Format = "%x-%x-%x-%x%x-%x"
	CurlyHyphen   Format = "{%x-%x-%x-%x%x-%x}"
	BracketHyphen Format = "(%x-%x-%x-%x%x-%x)"
	GoIdFormat    Format = "[%X-%X-%x-%X%X-%x]"
)

var format atomic.Value // of Format

func init() { format.Store(CleanHyphen) }

// SwitchFormat sets the format String uses.
func SwitchFormat(f Format) { format.Store(f) }

// array is a UUID's bytes.
type array [16]byte

func (a array) Bytes() []byte { return a[:] }

func (a array) Version() int { return int(a[6] >> 4) }

func (a array) String() string {
	return fmt.Sprintf(string(format.Load().(Format)), a[0:4], a[4:6], a[6:8], a[8:9], a[9:10], a[10:16])
}

// New is the UUID of b's first 16 bytes (zero-padded if shorter).
func New(b []byte) UUID {
	var a array
	copy(a[:], b)
	return a
}

// NewV4 is a random (version 4, RFC 4122 variant) UUID.
func NewV4() UUID {
	var a array
	if _, err := rand.Read(a[:]); err != nil {
		panic("uuid: no randomness: " + err.Error())
	}
	a[6] = a[6]&0x0f | 0x40
	a[8] = a[8]&0x3f | 0x80
	return a
}
