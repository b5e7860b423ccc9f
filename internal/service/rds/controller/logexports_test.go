package controller

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/logport"
)

func TestSplitEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    string
		atEnd bool
		want  []string
		used  int
	}{
		{"empty", "", true, nil, 0},
		{"lines", "a\nb\n", true, []string{"a", "b"}, 4},
		{"unended line waits", "a\nb", true, []string{"a"}, 2},
		{"continuation joins", "ERROR: x\n\tSELECT 1\n\t  FROM t\nLOG: y\n", true, []string{"ERROR: x\n\tSELECT 1\n\t  FROM t", "LOG: y"}, 36},
		{"last entry may continue when not at the end", "a\nb\n", false, []string{"a"}, 2},
		{"blank line is an entry", "a\n\nb\n", true, []string{"a", "", "b"}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, used := splitEntries(tc.in, tc.atEnd)
			if !slices.Equal(got, tc.want) || used != tc.used {
				t.Errorf("splitEntries(%q, %v) = %q, %d; want %q, %d", tc.in, tc.atEnd, got, used, tc.want, tc.used)
			}
		})
	}
}

func TestEntryTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 12, 17, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-07-12 16:00:01.250 UTC [42] ERROR:  boom": time.Date(2026, 7, 12, 16, 0, 1, 250e6, time.UTC),
		"2026-07-12 16:00:01 0 [Note] mariadbd: ready":  now,
		"short": now,
	} {
		if got := entryTime(in, now); !got.Equal(want) {
			t.Errorf("entryTime(%q) = %s, want %s", in, got, want)
		}
	}
}

// fakeWriter is logport.Writer's stand-in: it keeps what it is given, or
// fails while fail is set.
type fakeWriter struct {
	got  []string
	fail bool
}

func (w *fakeWriter) write(events []logport.Event) error {
	if w.fail {
		return errors.New("logs unavailable")
	}
	for _, e := range events {
		w.got = append(w.got, e.Message)
	}
	return nil
}

// The tailer exports each entry once: as lines come, across a failed
// write (retried), across a new tailer (minicloud restarted: the offset
// file), and from 0 when the file starts anew.
func TestTailer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	log, offset := filepath.Join(dir, "postgresql.log"), filepath.Join(dir, "logexports", "postgresql.offset")
	appendLog := func(s string) {
		t.Helper()
		f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	w := &fakeWriter{}
	tl := newTailer(log, offset)
	step := func(want ...string) {
		t.Helper()
		w.got = nil
		if err := tl.export(ctx, time.Now(), w.write); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(w.got, want) {
			t.Fatalf("exported %q, want %q", w.got, want)
		}
	}
	step() // no file yet
	appendLog("one\ntwo\nthr")
	step("one", "two")
	appendLog("ee\n\tcontinued\n")
	step("three\n\tcontinued")
	step()

	appendLog("four\n")
	w.fail = true
	if err := tl.export(ctx, time.Now(), w.write); err == nil {
		t.Fatal("a failed write: no error")
	}
	w.fail = false
	step("four")

	tl = newTailer(log, offset) // a restart
	appendLog("five\n")
	step("five")

	if err := os.WriteFile(log, []byte("new\n"), 0o600); err != nil { // rotated
		t.Fatal(err)
	}
	step("new")

	// An entry longer than a read is exported as it is.
	long := strings.Repeat("x", maxReadBytes+10)
	appendLog(long + "\nafter\n")
	w.got = nil
	if err := tl.export(ctx, time.Now(), w.write); err != nil {
		t.Fatal(err)
	}
	if len(w.got) != 3 || w.got[0] != long[:maxReadBytes] || w.got[2] != "after" {
		t.Fatalf("long entry: exported %d entries", len(w.got))
	}
}
