package state

import (
	"strings"
	"testing"
)

func TestIdempotency(t *testing.T) {
	s := NewMemory()
	defer s.Close()
	sc := Scope{Account: "123456789012", Region: "us-east-1"}
	idem := Idempotency{Service: "ec2"}
	h1 := HashParams(map[string]any{"CidrBlock": "10.0.0.0/16"})
	h2 := HashParams(map[string]any{"CidrBlock": "10.1.0.0/16"})
	if err := s.Update(ctx, func(tx Tx) error {
		return idem.Record(tx, sc, "CreateVpc", "tok-1", h1, "vpc-1")
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		scope  Scope
		op     string
		token  string
		hash   string
		wantID string
		found  bool
		code   string
	}{
		{"retry same params", sc, "CreateVpc", "tok-1", h1, "vpc-1", true, ""},
		{"different params", sc, "CreateVpc", "tok-1", h2, "", false, CodeIdempotentParameterMismatch},
		{"new token", sc, "CreateVpc", "tok-2", h1, "", false, ""},
		{"other operation", sc, "CreateSubnet", "tok-1", h1, "", false, ""},
		{"other region", Scope{Account: sc.Account, Region: "eu-west-1"}, "CreateVpc", "tok-1", h1, "", false, ""},
		{"empty token", sc, "CreateVpc", "", h1, "", false, ""},
		{"64 chars ok", sc, "CreateVpc", strings.Repeat("t", 64), h1, "", false, ""},
		{"65 chars", sc, "CreateVpc", strings.Repeat("t", 65), h1, "", false, CodeInvalidParameterValue},
		{"non-ascii", sc, "CreateVpc", "tök", h1, "", false, CodeInvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = s.View(ctx, func(tx Tx) error {
				id, found, err := idem.Check(tx, tt.scope, tt.op, tt.token, tt.hash)
				if tt.code != "" {
					if !IsCode(err, tt.code) {
						t.Fatalf("err = %v, want %s", err, tt.code)
					}
					return nil
				}
				if err != nil || id != tt.wantID || found != tt.found {
					t.Fatalf("Check = %q %v %v; want %q %v", id, found, err, tt.wantID, tt.found)
				}
				return nil
			})
		})
	}
	_ = s.View(ctx, func(tx Tx) error {
		_, _, err := idem.Check(tx, sc, "CreateVpc", "tok-1", h2)
		if err == nil || err.Error() != "IdempotentParameterMismatch: Client token already used before." {
			t.Errorf("mismatch error = %v", err)
		}
		return nil
	})
}

func TestHashParams(t *testing.T) {
	type req struct {
		B string
		A int
	}
	tests := []struct {
		name  string
		a, b  any
		equal bool
	}{
		{"struct vs map", req{B: "x", A: 1}, map[string]any{"A": 1, "B": "x"}, true},
		{"map order", map[string]int{"a": 1, "b": 2}, map[string]int{"b": 2, "a": 1}, true},
		{"different value", req{B: "x", A: 1}, req{B: "x", A: 2}, false},
		{"big numbers exact", map[string]any{"n": int64(9007199254740993)}, map[string]any{"n": int64(9007199254740992)}, false},
		{"unencodable falls back", map[string]any{"f": func() {}}, map[string]any{"f": func() {}}, false},
	}
	for _, tt := range tests {
		ha, hb := HashParams(tt.a), HashParams(tt.b)
		if len(ha) != 64 {
			t.Errorf("%s: hash %q not hex sha256", tt.name, ha)
		}
		if tt.name == "unencodable falls back" {
			continue // only checks it does not panic
		}
		if (ha == hb) != tt.equal {
			t.Errorf("%s: equal=%v, want %v", tt.name, ha == hb, tt.equal)
		}
	}
}
