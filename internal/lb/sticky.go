package lb

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cookie names ALB uses (ALB user guide, "Sticky sessions for your
// Application Load Balancer"): AWSALB and AWSALBCORS for duration-based
// stickiness, AWSALBAPP-<n> for application-based stickiness, AWSALBTG and
// AWSALBTGCORS for target group stickiness of a weighted forward.
const (
	cookieLB        = "AWSALB"
	cookieLBCORS    = "AWSALBCORS"
	cookieAppPrefix = "AWSALBAPP-"
	cookieTG        = "AWSALBTG"
	cookieTGCORS    = "AWSALBTGCORS"
)

// defaultStickiness is stickiness.lb_cookie.duration_seconds' default (one
// day).
const defaultStickiness = 24 * time.Hour

// cookieKind separates the meanings of sealed cookie values, so that a
// value of one cookie cannot be replayed as another.
type cookieKind byte

const (
	kindTarget cookieKind = 1 + iota
	kindGroup
)

// cookieSealer seals and opens stickiness cookie values with AES-GCM: a
// client sees neither the target's address nor can it forge a value that
// names one, so a cookie can only choose among the group's registered
// targets, and only one the node itself handed out.
type cookieSealer struct {
	aead cipher.AEAD
}

func newCookieSealer(key []byte) (*cookieSealer, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("cookie key: %w", err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cookie key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cookie key: %w", err)
	}
	return &cookieSealer{aead: aead}, nil
}

// seal encodes kind, expiry, group and (for kindTarget) target.
func (s *cookieSealer) seal(kind cookieKind, expires time.Time, group string, t TargetKey) string {
	plain := make([]byte, 0, 64)
	plain = append(plain, byte(kind))
	plain = binary.BigEndian.AppendUint64(plain, uint64(expires.Unix()))
	plain = append(plain, group...)
	plain = append(plain, 0)
	plain = append(plain, t.ID...)
	plain = append(plain, 0)
	plain = strconv.AppendInt(plain, int64(t.Port), 10)
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, plain, nil)
	return base64.RawURLEncoding.EncodeToString(out)
}

var errBadCookie = errors.New("cookie value not valid")

// open checks and decodes a value seal produced; an expired, forged or
// foreign value is errBadCookie.
func (s *cookieSealer) open(kind cookieKind, value string, now time.Time) (group string, t TargetKey, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", TargetKey{}, errBadCookie
	}
	ns := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil || len(plain) < 9 || cookieKind(plain[0]) != kind {
		return "", TargetKey{}, errBadCookie
	}
	if exp := int64(binary.BigEndian.Uint64(plain[1:9])); now.Unix() > exp {
		return "", TargetKey{}, errBadCookie
	}
	parts := strings.SplitN(string(plain[9:]), "\x00", 3)
	if len(parts) != 3 {
		return "", TargetKey{}, errBadCookie
	}
	port, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", TargetKey{}, errBadCookie
	}
	return parts[0], TargetKey{ID: parts[1], Port: port}, nil
}

// setStickyCookies adds a cookie and its CORS twin (SameSite=None; Secure,
// for cross-origin requests, as ALB sets AWSALBCORS beside AWSALB).
func setStickyCookies(h http.Header, name, corsName, value string, expires time.Time) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", Expires: expires}
	h.Add("Set-Cookie", c.String())
	if corsName != "" {
		cc := &http.Cookie{Name: corsName, Value: value, Path: "/", Expires: expires, SameSite: http.SameSiteNoneMode, Secure: true}
		h.Add("Set-Cookie", cc.String())
	}
}

// appCookieName is the cookie of application-based stickiness for the
// index-th target group of a forward action.
func appCookieName(index int) string { return cookieAppPrefix + strconv.Itoa(index) }

// requestCookie is the value of the named cookie, or "".
func requestCookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
