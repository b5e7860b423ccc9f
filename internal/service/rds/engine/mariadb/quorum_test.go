package mariadb

import "testing"

func TestGTIDSeq(t *testing.T) {
	for _, tc := range []struct {
		pos  string
		want uint64
	}{
		{"", 0},
		{"0-1-5", 5},
		{"0-1-5,1-2-9", 9},
		{"0-3052-12, 0-77-40", 40},
		{"garbage", 0},
	} {
		if got := gtidSeq(tc.pos); got != tc.want {
			t.Errorf("gtidSeq(%q) = %d, want %d", tc.pos, got, tc.want)
		}
	}
}
