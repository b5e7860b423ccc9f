package minicloudtest

import "testing"

// TestClaimPublicRange: ranges held at once differ and lie in the pool; a
// released range is free again.
func TestClaimPublicRange(t *testing.T) {
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
	// The pool is walked in order and other processes may hold earlier
	// ranges, so only this is certain: the freed range is claimable.
	if c.prefix.Addr().Compare(held.Addr()) > 0 {
		t.Errorf("after releasing %s the next claim got %s, a later range", held, c.prefix)
	}
}
