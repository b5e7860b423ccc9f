package rds

import (
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
