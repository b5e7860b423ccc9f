package authz

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/iampolicy"
)

// EC2's "encoded authorization failure message" is, as on AWS, opaque:
// the decision's document, sealed with AES-GCM under a key this process
// made, which only sts:DecodeAuthorizationMessage (Decode) opens. A
// message from before a restart no longer opens, as AWS's do not after a
// while. The account of the refused principal is sealed with it (GCM's
// additional data): a message opens only for a caller of that account.

// messages seals and opens authorization messages.
type messages struct{ aead cipher.AEAD }

func newMessages() *messages {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("authz: no randomness for the message key: " + err.Error())
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("authz: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("authz: " + err.Error())
	}
	return &messages{aead: aead}
}

func (m *messages) seal(doc []byte, account string) string {
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("authz: no randomness for a nonce: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(m.aead.Seal(nonce, nonce, doc, []byte(account)))
}

func (m *messages) open(s, account string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < m.aead.NonceSize() {
		return nil, false
	}
	doc, err := m.aead.Open(nil, b[:m.aead.NonceSize()], b[m.aead.NonceSize():], []byte(account))
	return doc, err == nil
}

// Decode opens an encoded authorization message this Enforcer wrote for
// a principal of account (sts.Messages): its JSON document, or ok false.
func (e *Enforcer) Decode(encoded, account string) (string, bool) {
	doc, ok := e.messages.open(strings.TrimSpace(encoded), account)
	return string(doc), ok
}

// The decoded message, in the shape AWS's DecodeAuthorizationMessage
// answers: lists as {"items": […]}, a condition's values as
// {"items": [{"value": …}]}.
type (
	decodedMessage struct {
		Allowed           bool           `json:"allowed"`
		ExplicitDeny      bool           `json:"explicitDeny"`
		MatchedStatements items[matched] `json:"matchedStatements"`
		Failures          items[string]  `json:"failures"`
		Context           messageContext `json:"context"`
	}
	items[T any] struct {
		Items []T `json:"items"`
	}
	matched struct {
		StatementID string `json:"statementId"`
		Effect      string `json:"effect"`
		// Policy names the policy the statement is in (AWS's document
		// carries the statement's elements instead).
		Policy string `json:"policy,omitempty"`
	}
	messageContext struct {
		Principal  messagePrincipal     `json:"principal"`
		Action     string               `json:"action"`
		Resource   string               `json:"resource"`
		Conditions items[conditionItem] `json:"conditions"`
	}
	messagePrincipal struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
		ARN  string `json:"arn"`
	}
	conditionItem struct {
		Key    string       `json:"key"`
		Values items[value] `json:"values"`
	}
	value struct {
		Value string `json:"value"`
	}
)

// encode is the sealed message of a refused request.
func (e *Enforcer) encode(d iampolicy.Decision, q *iampolicy.Request) string {
	m := decodedMessage{
		ExplicitDeny:      d.Outcome == iampolicy.ExplicitDeny,
		MatchedStatements: items[matched]{Items: []matched{}},
		Failures:          items[string]{Items: []string{}},
		Context: messageContext{
			Principal:  messagePrincipal{ID: q.Principal.UserID, Name: q.Principal.Username, ARN: q.Principal.ARN},
			Action:     d.Action,
			Resource:   d.Resource,
			Conditions: items[conditionItem]{Items: []conditionItem{}},
		},
	}
	if d.Outcome == iampolicy.ExplicitDeny {
		m.MatchedStatements.Items = append(m.MatchedStatements.Items, matched{StatementID: d.Sid, Effect: "DENY", Policy: d.Policy})
	}
	keys := make([]string, 0, len(q.Context))
	for k := range q.Context {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := conditionItem{Key: canonicalKey(k), Values: items[value]{Items: []value{}}}
		for _, v := range q.Context[k] {
			c.Values.Items = append(c.Values.Items, value{Value: v})
		}
		m.Context.Conditions.Items = append(m.Context.Conditions.Items, c)
	}
	doc, err := json.Marshal(m)
	if err != nil {
		// Every field is a string, bool or list of them.
		panic(fmt.Sprintf("authz: encode a message: %v", err))
	}
	return e.messages.seal(doc, q.Principal.Account)
}

// canonicalKeys are the condition keys enforcement sets, as AWS spells
// them: the request context keeps them lower-case, since keys compare
// without case.
var canonicalKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"aws:SourceIp", "aws:SecureTransport", "aws:RequestedRegion", "aws:CurrentTime", "aws:EpochTime",
		"aws:TagKeys", "aws:RequestTag/", "aws:ResourceTag/"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

func canonicalKey(k string) string {
	if c, ok := canonicalKeys[k]; ok {
		return c
	}
	if i := strings.IndexByte(k, '/'); i > 0 {
		if c, ok := canonicalKeys[k[:i+1]]; ok {
			return c + k[i+1:]
		}
	}
	return k
}
