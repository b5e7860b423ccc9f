package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// MaxClientTokenLen is the longest ClientToken EC2 accepts.
const MaxClientTokenLen = 64

// Idempotency implements AWS client-token semantics: a retried Create call
// with the same token and the same parameters returns the original
// resource instead of creating another; the same token with different
// parameters is IdempotentParameterMismatch. Records live in the same store
// and transaction as the resource, so "created" and "token recorded" commit
// atomically. Service scopes the records, e.g. Idempotency{Service: "ec2"}.
type Idempotency struct{ Service string }

type idemRecord struct {
	ParamsHash string    `json:"paramsHash"`
	ResultID   string    `json:"resultId"`
	Created    time.Time `json:"created"`
}

func (i Idempotency) key(s Scope, operation, token string) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	if err := checkPart("service", i.Service); err != nil {
		return "", err
	}
	if err := checkPart("operation", operation); err != nil {
		return "", err
	}
	return Key(s.Account, s.Region, i.Service, "idempotency", operation, token), nil
}

// ValidateClientToken enforces EC2's token rules: at most 64 ASCII
// characters. An empty token is valid and means "not idempotent".
func ValidateClientToken(token string) error {
	bad := len(token) > MaxClientTokenLen
	for i := 0; !bad && i < len(token); i++ {
		bad = token[i] > 0x7f
	}
	if bad {
		return InvalidParameterValue("Value (%s) for parameter clientToken is invalid. The client token must be at most %d ASCII characters.", token, MaxClientTokenLen)
	}
	return nil
}

// Check looks up clientToken for operation. found=true means the call is a
// retry: return the resource resultID instead of creating a new one. An
// empty token never matches.
func (i Idempotency) Check(tx Tx, s Scope, operation, clientToken, paramsHash string) (resultID string, found bool, err error) {
	if clientToken == "" {
		return "", false, nil
	}
	if err := ValidateClientToken(clientToken); err != nil {
		return "", false, err
	}
	k, err := i.key(s, operation, clientToken)
	if err != nil {
		return "", false, err
	}
	raw, ok := tx.Get(k)
	if !ok {
		return "", false, nil
	}
	var rec idemRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", false, fmt.Errorf("state: decode idempotency record %q: %w", k, err)
	}
	if rec.ParamsHash != paramsHash {
		return "", false, Errorf(400, CodeIdempotentParameterMismatch, "Client token already used before.")
	}
	return rec.ResultID, true, nil
}

// Record remembers that clientToken produced resultID. Call it in the same
// Update that creates the resource. An empty token is a no-op.
func (i Idempotency) Record(tx Tx, s Scope, operation, clientToken, paramsHash, resultID string) error {
	if clientToken == "" {
		return nil
	}
	if err := ValidateClientToken(clientToken); err != nil {
		return err
	}
	k, err := i.key(s, operation, clientToken)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(idemRecord{ParamsHash: paramsHash, ResultID: resultID, Created: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("state: encode idempotency record: %w", err)
	}
	if err := tx.Put(k, raw); err != nil {
		return fmt.Errorf("state: record client token for %s: %w", operation, err)
	}
	return nil
}

// HashParams returns the hex SHA-256 of v's canonical JSON (object keys
// sorted, insignificant whitespace removed), so equal requests hash equally
// whether they arrive as structs or maps. The client token itself should
// not be part of v. Values JSON cannot encode fall back to a %#v rendering.
func HashParams(v any) string {
	canon, err := canonicalJSON(v)
	if err != nil {
		canon = []byte(fmt.Sprintf("%#v", v))
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// Round-trip through a generic value: encoding/json sorts map keys, and
	// UseNumber keeps numbers exactly as written.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, err
	}
	return json.Marshal(g)
}
