package postgres

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestProgressWriter(t *testing.T) {
	var got []int32
	w := &progressWriter{report: func(p int32) { got = append(got, p) }}
	for _, chunk := range []string{
		"waiting for checkpoint\n",
		"    0/22786 kB (0%), 0/1 tablespace\r",
		"11393/22786 kB (50%), 0/1 tablespace\r22000/22786 kB (96%), 0/1 tablespace\r",
		"22000/22786 kB (96%), 0/1 tablespace\r",
		"22796/22796 kB (100%), 1/1 tablespace\n",
	} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int32{50, 96, 99}; !slices.Equal(got, want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
}

func TestRemoveSegmentsBefore(t *testing.T) {
	dir := t.TempDir()
	names := []string{
		"000000010000000000000001", "000000010000000000000002", "000000020000000000000003",
		"000000020000000000000004", "00000002.history", "000000010000000000000002.00000028.backup", "000000020000000000000005.part",
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeSegmentsBefore(dir, "000000020000000000000003"); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{"000000010000000000000002.00000028.backup", "00000002.history", "000000020000000000000003", "000000020000000000000004", "000000020000000000000005.part"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}
