package ssmsession

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message types of an agent message (its 32-byte MessageType field,
// space-padded).
const (
	TypeInput            = "input_stream_data"
	TypeOutput           = "output_stream_data"
	TypeAcknowledge      = "acknowledge"
	TypeChannelClosed    = "channel_closed"
	TypeStartPublication = "start_publication"
	TypePausePublication = "pause_publication"
)

// PayloadType says what a stream message's payload is.
type PayloadType uint32

// The payload types of the plugin's message package.
const (
	PayloadOutput            PayloadType = 1
	PayloadError             PayloadType = 2
	PayloadSize              PayloadType = 3
	PayloadParameter         PayloadType = 4
	PayloadHandshakeRequest  PayloadType = 5
	PayloadHandshakeResponse PayloadType = 6
	PayloadHandshakeComplete PayloadType = 7
	PayloadEncChallengeReq   PayloadType = 8
	PayloadEncChallengeResp  PayloadType = 9
	PayloadFlag              PayloadType = 10
	PayloadStdErr            PayloadType = 11
	PayloadExitCode          PayloadType = 12
)

// Flag payloads (PayloadFlag: a big-endian uint32).
const (
	FlagDisconnectToPort   uint32 = 1
	FlagTerminateSession   uint32 = 2
	FlagConnectToPortError uint32 = 3
)

// The binary layout of an agent message: a header of HeaderLength bytes,
// then the payload's length and the payload.
//
//	| HL 4 | MessageType 32 | SchemaVersion 4 | CreatedDate 8 | SequenceNumber 8 | Flags 8 |
//	| MessageId 16 | PayloadDigest 32 | PayloadType 4 | PayloadLength 4 | Payload … |
//
// Integers are big-endian. The message ID is a UUID written as its least
// significant 8 bytes, then its most significant 8 (the plugin's putUuid).
// HL counts the header up to, not including, PayloadLength.
const (
	HeaderLength = 116

	offType          = 4
	offSchemaVersion = 36
	offCreatedDate   = 40
	offSequence      = 48
	offFlags         = 56
	offMessageID     = 64
	offDigest        = 80
	offPayloadType   = 112
	offPayloadLength = 116
	offPayload       = 120

	typeFieldLength = 32
)

// MaxPayload bounds a message's payload (the plugin sends at most 1 KiB of
// input at once; the agent's output messages are a few KiB).
const MaxPayload = 1 << 20

// Message is one agent message (the plugin's ClientMessage).
type Message struct {
	Type          string
	SchemaVersion uint32
	CreatedDate   uint64 // milliseconds since the epoch
	Sequence      int64
	Flags         uint64
	ID            UUID
	PayloadType   PayloadType
	Payload       []byte
}

// UUID is a message ID, most significant byte first.
type UUID [16]byte

// NewUUID is a random (version 4) UUID.
func NewUUID() UUID {
	var u UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// String is the UUID's canonical form, as the plugin writes it in its
// acknowledgements.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Marshal encodes m; CreatedDate defaults to now and the payload's digest
// is computed.
func (m *Message) Marshal() ([]byte, error) {
	if len(m.Type) > typeFieldLength {
		return nil, fmt.Errorf("message type %q longer than %d bytes", m.Type, typeFieldLength)
	}
	b := make([]byte, offPayload+len(m.Payload))
	binary.BigEndian.PutUint32(b[0:], HeaderLength)
	copy(b[offType:offType+typeFieldLength], bytes.Repeat([]byte{' '}, typeFieldLength))
	copy(b[offType:], m.Type)
	binary.BigEndian.PutUint32(b[offSchemaVersion:], m.SchemaVersion)
	created := m.CreatedDate
	if created == 0 {
		created = uint64(time.Now().UnixMilli())
	}
	binary.BigEndian.PutUint64(b[offCreatedDate:], created)
	binary.BigEndian.PutUint64(b[offSequence:], uint64(m.Sequence))
	binary.BigEndian.PutUint64(b[offFlags:], m.Flags)
	copy(b[offMessageID:], m.ID[8:])
	copy(b[offMessageID+8:], m.ID[:8])
	sum := sha256.Sum256(m.Payload)
	copy(b[offDigest:], sum[:])
	binary.BigEndian.PutUint32(b[offPayloadType:], uint32(m.PayloadType))
	binary.BigEndian.PutUint32(b[offPayloadLength:], uint32(len(m.Payload)))
	copy(b[offPayload:], m.Payload)
	return b, nil
}

// Parse errors.
var (
	ErrShortMessage = errors.New("agent message shorter than its header")
	ErrBadMessage   = errors.New("malformed agent message")
)

// Parse decodes an agent message. It is stricter than the plugin's
// parser, which trusts the header: the header length must be at least
// HeaderLength and leave room for the payload length, the payload length
// must be what follows, the type must be set, and the digest must be the
// payload's SHA-256 (publication messages, which the service sends without
// one, excepted).
func Parse(b []byte) (Message, error) {
	var m Message
	if len(b) < offPayload {
		return m, ErrShortMessage
	}
	hl := binary.BigEndian.Uint32(b[0:])
	if hl < HeaderLength || uint64(hl)+4 > uint64(len(b)) {
		return m, fmt.Errorf("%w: header length %d of a %d-byte message", ErrBadMessage, hl, len(b))
	}
	m.Type = strings.TrimSpace(string(bytes.Trim(b[offType:offType+typeFieldLength], "\x00")))
	m.SchemaVersion = binary.BigEndian.Uint32(b[offSchemaVersion:])
	m.CreatedDate = binary.BigEndian.Uint64(b[offCreatedDate:])
	m.Sequence = int64(binary.BigEndian.Uint64(b[offSequence:]))
	m.Flags = binary.BigEndian.Uint64(b[offFlags:])
	copy(m.ID[8:], b[offMessageID:offMessageID+8])
	copy(m.ID[:8], b[offMessageID+8:offMessageID+16])
	m.PayloadType = PayloadType(binary.BigEndian.Uint32(b[offPayloadType:]))
	plen := binary.BigEndian.Uint32(b[hl:])
	payload := b[hl+4:]
	if uint64(plen) != uint64(len(payload)) || plen > MaxPayload {
		return m, fmt.Errorf("%w: payload length %d, %d bytes follow", ErrBadMessage, plen, len(payload))
	}
	if m.Type == "" {
		return m, fmt.Errorf("%w: no message type", ErrBadMessage)
	}
	if m.Type != TypeStartPublication && m.Type != TypePausePublication {
		sum := sha256.Sum256(payload)
		if !bytes.Equal(sum[:], b[offDigest:offDigest+32]) {
			return m, fmt.Errorf("%w: payload digest mismatch", ErrBadMessage)
		}
	}
	m.Payload = append([]byte(nil), payload...)
	return m, nil
}
