// Package mountinfo reads /proc/self/mountinfo (proc(5)): the mounts of the
// calling process's mount namespace, in the order they were mounted. The
// data plane uses it to find mounts below a directory (volumes) and mounts
// hidden under another mount of the same directory (namespace files).
//
// Written by hand: the one well-known library (moby/sys/mountinfo) carries
// far more than these three fields, and the format is a line of fields.
package mountinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo, the fields minicloud uses.
type Mount struct {
	ID, Parent int
	Point      string // mount point, unescaped
	Shared     bool   // has a "shared:N" optional field (propagation)
}

// Read lists the calling process's mounts in mount order: of two mounts
// on one path, the later is on top.
func Read() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return Parse(b)
}

// Parse parses mountinfo: "id parent major:minor root point options
// [optional…] - fstype source superoptions", one mount per line.
func Parse(b []byte) ([]Mount, error) {
	var out []Mount
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 0 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 {
			return nil, fmt.Errorf("mountinfo: line %q: no separator after the options", s.Text())
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo: line %q: bad mount IDs", s.Text())
		}
		m := Mount{ID: id, Parent: parent, Point: unescape(f[4])}
		for _, opt := range f[6:sep] {
			if strings.HasPrefix(opt, "shared:") {
				m.Shared = true
			}
		}
		out = append(out, m)
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return out, nil
}

// unescape undoes the kernel's \ooo escapes (space, tab, newline and
// backslash in paths).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
