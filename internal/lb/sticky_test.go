package lb

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cookieOf finds a Set-Cookie of the answer by name.
func cookieOf(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func stickyConfig(typ string, bs ...*backend) Config {
	tg := groupOf("tg", bs...)
	tg.Stickiness = Stickiness{Type: typ, Duration: time.Hour, AppCookieName: "SESSION"}
	return Config{TargetGroups: []TargetGroup{tg}, Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}}
}

func TestStickyLBCookie(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	key := []byte("0123456789abcdef0123456789abcdef")
	cfg := stickyConfig(StickyLBCookie, a, b)
	n := testNode(t, Options{CookieKey: key}, cfg)
	waitState(t, n, "tg", "a", StateHealthy, 3*time.Second)
	waitState(t, n, "tg", "b", StateHealthy, 3*time.Second)
	url := nodeURL(t, n, 80, "http")

	_, first, h := get(t, http.DefaultClient, url)
	c := cookieOf(h, "AWSALB")
	cors := cookieOf(h, "AWSALBCORS")
	if c == nil || cors == nil || cors.Value != c.Value || cors.SameSite != http.SameSiteNoneMode || !cors.Secure {
		t.Fatalf("cookies %v", h.Values("Set-Cookie"))
	}
	plain, _ := base64.RawURLEncoding.DecodeString(c.Value)
	for _, port := range []int{a.target().Port, b.target().Port} {
		if strings.Contains(string(plain), strconv.Itoa(port)) || strings.Contains(c.Value, "127.0.0.1") {
			t.Errorf("cookie value shows the target: %q", c.Value)
		}
	}
	for range 20 {
		if _, body, _ := get(t, http.DefaultClient, url, "Cookie", "AWSALB="+c.Value); body != first {
			t.Fatalf("sticky request went to %q, want %q", body, first)
		}
	}
	// Another node of the same load balancer (same key) honours it.
	n2 := testNode(t, Options{CookieKey: key}, cfg)
	waitState(t, n2, "tg", "a", StateHealthy, 3*time.Second)
	waitState(t, n2, "tg", "b", StateHealthy, 3*time.Second)
	for range 10 {
		if _, body, _ := get(t, http.DefaultClient, nodeURL(t, n2, 80, "http"), "Cookie", "AWSALB="+c.Value); body != first {
			t.Fatalf("second node sent the sticky request to %q, want %q", body, first)
		}
	}

	// Forged cookies pin nothing: traffic keeps alternating.
	raw, _ := base64.RawURLEncoding.DecodeString(c.Value)
	raw[len(raw)-1] ^= 1
	other := newCookieSealerForTest(t)
	forged := []string{
		base64.RawURLEncoding.EncodeToString(raw), // tampered
		"MTI3LjAuMC4xOjgw",                        // "127.0.0.1:80"
		other.seal(kindTarget, time.Now().Add(time.Hour), "tg", TargetKey{ID: first, Port: a.target().Port}), // foreign key
		newSealer(t, key).seal(kindTarget, time.Now().Add(-time.Minute), "tg", a.targetKey()),                // expired
		newSealer(t, key).seal(kindTarget, time.Now().Add(time.Hour), "tg", TargetKey{ID: "10.9.9.9", Port: 22}),
	}
	for _, v := range forged {
		seen := map[string]bool{}
		for range 6 {
			code, body, _ := get(t, http.DefaultClient, url, "Cookie", "AWSALB="+v)
			if code != 200 {
				t.Fatalf("forged cookie %q: status %d", v, code)
			}
			seen[body] = true
		}
		if len(seen) != 2 {
			t.Errorf("forged cookie %q pinned traffic: %v", v, seen)
		}
	}
}

func (b *backend) targetKey() TargetKey {
	tg := b.target()
	return TargetKey{ID: tg.ID, Port: tg.Port}
}

func newSealer(t *testing.T, key []byte) *cookieSealer {
	t.Helper()
	s, err := newCookieSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCookieSealerForTest(t *testing.T) *cookieSealer { return newSealer(t, nil) }

func TestStickyAppCookie(t *testing.T) {
	setsSession := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "SESSION", Value: "x"})
		}
	})
	a, b := newBackend(t, "a", setsSession), newBackend(t, "b", setsSession)
	n := testNode(t, Options{}, stickyConfig(StickyAppCookie, a, b))
	waitState(t, n, "tg", "a", StateHealthy, 3*time.Second)
	waitState(t, n, "tg", "b", StateHealthy, 3*time.Second)
	url := nodeURL(t, n, 80, "http")
	if _, _, h := get(t, http.DefaultClient, url+"/plain"); cookieOf(h, "AWSALBAPP-0") != nil {
		t.Error("AWSALBAPP-0 set without the application cookie")
	}
	_, _, h := get(t, http.DefaultClient, url+"/login")
	c := cookieOf(h, "AWSALBAPP-0")
	if c == nil {
		t.Fatalf("no AWSALBAPP-0 after the app set its cookie: %v", h.Values("Set-Cookie"))
	}
	hitsA, hitsB := a.hits.Load(), b.hits.Load()
	for range 10 {
		get(t, http.DefaultClient, url+"/x", "Cookie", "SESSION=x; AWSALBAPP-0="+c.Value)
	}
	if da, db := a.hits.Load()-hitsA, b.hits.Load()-hitsB; da != 10 && db != 10 {
		t.Errorf("app-cookie requests split %d/%d", da, db)
	}
}

func TestGroupStickiness(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	cfg := Config{TargetGroups: []TargetGroup{groupOf("tg-a", a), groupOf("tg-b", b)},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: []Action{{Type: ActionForward, GroupStickiness: time.Hour,
			TargetGroups: []WeightedTargetGroup{{ARN: "tg-a", Weight: 1}, {ARN: "tg-b", Weight: 1}}}}}}}
	n := testNode(t, Options{}, cfg)
	url := nodeURL(t, n, 80, "http")
	_, first, h := get(t, http.DefaultClient, url)
	c := cookieOf(h, "AWSALBTG")
	if c == nil || cookieOf(h, "AWSALBTGCORS") == nil {
		t.Fatalf("cookies %v", h.Values("Set-Cookie"))
	}
	for range 10 {
		if _, body, _ := get(t, http.DefaultClient, url, "Cookie", "AWSALBTG="+c.Value); body != first {
			t.Fatalf("group-sticky request went to %q, want %q", body, first)
		}
	}
}
