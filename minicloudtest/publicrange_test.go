package minicloudtest

import "testing"

// TestClaimPublicRange: ranges held at once differ and lie in the pool; a
// released range is free again. Its lock files are its own, so no other
// test or process takes a range meanwhile (and it runs without root).
func TestClaimPublicRange(t *testing.T) {
	dir := t.TempDir()
	defer func(f func() string) { lockDir = f }(lockDir)
	lockDir = func() string { return dir }
	a, err := claimPublicRange()
	if err != nil {
		t.Fatal(err)
	}
	defer a.release()
	b, err := claimPublicRange()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*publicRange{a, b} {
		if r.prefix.Bits() != 24 || !publicPool.Contains(r.prefix.Addr()) {
			t.Errorf("claimed %s, want a /24 of %s", r.prefix, publicPool)
		}
	}
	if a.prefix == b.prefix {
		t.Fatalf("two claims got the same range %s", a.prefix)
	}
	held := b.prefix
	b.release()
	c, err := claimPublicRange()
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	if c.prefix != held {
		t.Errorf("after releasing %s the next claim got %s", held, c.prefix)
	}
}
