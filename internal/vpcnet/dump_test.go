package vpcnet

import (
	"errors"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestRetryDump(t *testing.T) {
	other := errors.New("permission denied")
	tests := []struct {
		name        string
		interrupted int   // calls answering ErrDumpInterrupted before the last answer
		last        error // the answer after them
		wantCalls   int
		wantErr     error
	}{
		{"clean", 0, nil, 1, nil},
		{"interrupted twice", 2, nil, 3, nil},
		{"other error kept", 1, other, 2, other},
		{"always interrupted", dumpTries + 5, nil, dumpTries, netlink.ErrDumpInterrupted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			got, err := RetryDump(func() (int, error) {
				calls++
				if calls <= tc.interrupted {
					return -1, netlink.ErrDumpInterrupted
				}
				return 7, tc.last
			})
			if calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tc.wantCalls)
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && got != 7 {
				t.Errorf("got %d, want the clean dump's 7", got)
			}
		})
	}
}
