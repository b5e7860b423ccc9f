package authz

import "testing"

// A sealed authorization message opens only for the refused principal's
// account, and not at all once tampered with.
func TestMessagesOpenForTheirAccount(t *testing.T) {
	m := newMessages()
	sealed := m.seal([]byte(`{"allowed":false}`), "111111111111")
	flip := byte('A')
	if sealed[len(sealed)-5] == flip {
		flip = 'B'
	}
	tampered := sealed[:len(sealed)-5] + string(flip) + sealed[len(sealed)-4:]
	for _, tc := range []struct {
		name, msg, account string
		ok                 bool
	}{
		{"its account", sealed, "111111111111", true},
		{"another account", sealed, "222222222222", false},
		{"no account", sealed, "", false},
		{"tampered", tampered, "111111111111", false},
		{"not base64", "!!", "111111111111", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, ok := m.open(tc.msg, tc.account)
			if ok != tc.ok || (ok && string(doc) != `{"allowed":false}`) {
				t.Fatalf("open = %q, %v; want ok %v", doc, ok, tc.ok)
			}
		})
	}
}
