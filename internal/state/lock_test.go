package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockBolt: while a store is open on a file, LockBolt refuses with the
// holder's PID (this process); once it is closed, LockBolt takes the lock,
// and a store cannot open while LockBolt holds it.
func TestLockBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	release, err := LockBolt(path)
	if err != nil {
		t.Fatalf("LockBolt on a missing file: %v", err)
	}
	release()
	st, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockBolt(path)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("LockBolt on an open store = %v, want a LockedError naming pid %d", err, os.Getpid())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	release, err = LockBolt(path)
	if err != nil {
		t.Fatalf("LockBolt after Close: %v", err)
	}
	defer release()
	old := boltLockTimeout
	boltLockTimeout = 100 * time.Millisecond
	defer func() { boltLockTimeout = old }()
	if st, err := OpenBolt(path); err == nil {
		_ = st.Close()
		t.Fatal("OpenBolt succeeded while LockBolt held the file")
	}
}

func TestParseLocks(t *testing.T) {
	const listing = "1: POSIX  ADVISORY  WRITE 99 fd:01:1234 0 EOF\n" +
		"2: FLOCK  ADVISORY  WRITE 4242 00:2a:5678 0 EOF\n" +
		"2: -> FLOCK  ADVISORY  WRITE 77 00:2a:5678 0 EOF\n" +
		"3: FLOCK  ADVISORY  WRITE 555 103:02:5678 0 EOF\n"
	for _, tc := range []struct {
		major, minor uint32
		ino          uint64
		want         int
	}{
		{0x00, 0x2a, 5678, 4242},
		{0x103, 0x02, 5678, 555},
		{0xfd, 0x01, 1234, 0}, // a POSIX lock is not bbolt's
		{0x00, 0x2a, 1, 0},
	} {
		if got := parseLocks(strings.NewReader(listing), tc.major, tc.minor, tc.ino); got != tc.want {
			t.Errorf("parseLocks(%x:%x:%d) = %d, want %d", tc.major, tc.minor, tc.ino, got, tc.want)
		}
	}
}
