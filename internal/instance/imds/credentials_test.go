package imds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/iamport"
)

// fakeProfiles is IAM's profiles, changeable while a test runs.
type fakeProfiles struct {
	mu sync.Mutex
	m  map[string]iamport.Profile // by name
}

func (f *fakeProfiles) ProfileByName(_ context.Context, account, name string) (iamport.Profile, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.m[name]
	if ok && !strings.Contains(p.ARN, "::"+account+":") {
		return iamport.Profile{}, false, nil
	}
	return p, ok, nil
}

func (f *fakeProfiles) setRole(name string, r iamport.Role) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.m[name]
	p.Role = r
	f.m[name] = p
}

var webRole = iamport.Role{Name: "web-role", ID: "AROAWEB", ARN: "arn:aws:iam::123456789012:role/web-role"}

func webProfiles() *fakeProfiles {
	return &fakeProfiles{m: map[string]iamport.Profile{"web-profile": {Name: "web-profile", Path: "/", ID: "AIPAEXAMPLE1234567890",
		ARN: "arn:aws:iam::123456789012:instance-profile/web-profile", Role: webRole}}}
}

// fakeIssuer is STS: it numbers the credentials it mints.
type fakeIssuer struct {
	now func() time.Time
	mu  sync.Mutex
	n   int
	got []iamport.Session
	err error
}

func (f *fakeIssuer) RoleCredentials(_ context.Context, s iamport.Session) (iamport.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return iamport.Credentials{}, f.err
	}
	f.n++
	f.got = append(f.got, s)
	now := f.now()
	return iamport.Credentials{AccessKeyID: fmt.Sprintf("ASIAFAKE%d", f.n), SecretAccessKey: fmt.Sprintf("secret-%d", f.n),
		SessionToken: fmt.Sprintf("token-%d", f.n), Issued: now, Expiration: now.Add(s.Duration)}, nil
}

// keyServed is the AccessKeyId the web instance is served now.
func keyServed(t *testing.T, s *Server) string {
	t.Helper()
	w := do(s, req{path: "/latest/meta-data/iam/security-credentials/web-role"})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	_, after, _ := strings.Cut(w.Body.String(), `"AccessKeyId" : "`)
	key, _, _ := strings.Cut(after, `"`)
	return key
}

// TestCredentialSchedule: the same credentials until they are an hour
// old, new ones from then on; each valid six hours, so always replaced
// hours before they expire (AWS: at least five minutes).
func TestCredentialSchedule(t *testing.T) {
	c := &fakeClock{t: launch}
	iss := &fakeIssuer{now: c.now}
	s := New(lookup, WithClock(c.now), WithRoles(webProfiles(), iss))
	steps := []struct {
		advance time.Duration
		key     string
	}{
		{0, "ASIAFAKE1"},
		{30 * time.Minute, "ASIAFAKE1"},
		{30*time.Minute - time.Second, "ASIAFAKE1"},
		{time.Second, "ASIAFAKE2"}, // an hour old: replaced
		{59 * time.Minute, "ASIAFAKE2"},
		{3 * time.Hour, "ASIAFAKE3"},
	}
	for i, st := range steps {
		c.add(st.advance)
		if got := keyServed(t, s); got != st.key {
			t.Fatalf("step %d (%s): key %s, want %s", i, c.now().Sub(launch), got, st.key)
		}
	}
	for _, sess := range iss.got {
		if sess.Name != web.InstanceID || sess.Account != web.AccountID || sess.Role != webRole || sess.Duration != CredentialLifetime {
			t.Errorf("session %+v", sess)
		}
	}
}

func TestCredentialsDue(t *testing.T) {
	issued := launch
	cases := []struct {
		name     string
		lifetime time.Duration
		at       time.Duration // after issue
		due      bool
	}{
		{"fresh", CredentialLifetime, 0, false},
		{"before the refresh", CredentialLifetime, CredentialRefresh - time.Second, false},
		{"at the refresh", CredentialLifetime, CredentialRefresh, true},
		// Credentials that live less than the refresh period (none STS
		// mints here) are still replaced five minutes before they end.
		{"short-lived, early", 20 * time.Minute, 14 * time.Minute, false},
		{"short-lived, within the margin", 20 * time.Minute, 15 * time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := iamport.Credentials{Issued: issued, Expiration: issued.Add(tc.lifetime)}
			if got := due(c, issued.Add(tc.at)); got != tc.due {
				t.Errorf("due = %v, want %v", got, tc.due)
			}
		})
	}
}

// TestRoleChanges: the role is read at every request, so removing it from
// the profile, or another role, or another profile, is served at once.
func TestRoleChanges(t *testing.T) {
	c := &fakeClock{t: launch}
	profiles := webProfiles()
	iss := &fakeIssuer{now: c.now}
	s := New(lookup, WithClock(c.now), WithRoles(profiles, iss))
	list := func() (int, string) {
		w := do(s, req{path: "/latest/meta-data/iam/security-credentials/"})
		return w.Code, w.Body.String()
	}
	if code, body := list(); code != 200 || body != "web-role" {
		t.Fatalf("listing %d %q", code, body)
	}
	first := keyServed(t, s)

	profiles.setRole("web-profile", iamport.Role{})
	if code, _ := list(); code != http.StatusNotFound {
		t.Errorf("without a role: listing %d, want 404", code)
	}
	if w := do(s, req{path: "/latest/meta-data/iam/security-credentials/web-role"}); w.Code != http.StatusNotFound {
		t.Errorf("without a role: credentials %d, want 404", w.Code)
	}
	if w := do(s, req{path: "/latest/meta-data/iam/"}); w.Code != 200 || w.Body.String() != "info" {
		t.Errorf("without a role: iam/ %d %q, want info only", w.Code, w.Body.String())
	}

	other := iamport.Role{Name: "other-role", ID: "AROAOTHER", ARN: "arn:aws:iam::123456789012:role/other-role"}
	profiles.setRole("web-profile", other)
	if code, body := list(); code != 200 || body != "other-role" {
		t.Fatalf("listing %d %q", code, body)
	}
	w := do(s, req{path: "/latest/meta-data/iam/security-credentials/other-role"})
	if w.Code != 200 || strings.Contains(w.Body.String(), first) {
		t.Errorf("another role: %d, %s (first key %s)", w.Code, w.Body.String(), first)
	}

	profiles.mu.Lock()
	delete(profiles.m, "web-profile")
	profiles.mu.Unlock()
	if code, _ := list(); code != http.StatusNotFound {
		t.Errorf("profile deleted: listing %d, want 404", code)
	}
}

func TestCredentialsFailure(t *testing.T) {
	c := &fakeClock{t: launch}
	s := New(lookup, WithClock(c.now), WithRoles(webProfiles(), &fakeIssuer{now: c.now, err: errors.New("store closed")}))
	if w := do(s, req{path: "/latest/meta-data/iam/security-credentials/web-role"}); w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	// What needs no credentials is still served.
	if w := do(s, req{path: "/latest/meta-data/iam/security-credentials/"}); w.Code != 200 {
		t.Errorf("listing: status %d", w.Code)
	}
}
