package metrics

import (
	"math/bits"
	"slices"
)

// blockSpan is the seconds of one raw block, and the most slots a block
// of any tier has.
const blockSpan = 3600

// rawBlock is a run of one tier's buckets in columns: which slots have
// data (Bits), and for each of them in time order its value (Vals) when
// its bucket is one sample counted once — what a publisher or a
// high-resolution PutMetricData puts, and what a minute of standard data
// folds to — so such a bucket costs 8 bytes rather than a 56-byte Agg and
// its timestamp. A bucket with more (several samples, a count, a
// statistic set) has its whole aggregate in Full and a placeholder in
// Vals. Timestamps are implicit: slot i is the bucket at Start + i×res,
// res being the tier's bucket width (one second for the raw tier, whose
// standard data use every sixtieth slot). Every tier uses the type (the
// raw tier an hour a block, the coarse tiers tierSlots[i] buckets a
// block), so a month of a one-minute metric is columns, not a slice of
// structs.
type rawBlock struct {
	Start int64
	Bits  [(blockSpan + 63) / 64]uint64
	Vals  []float64
	Full  map[uint16]*Agg
}

// rank is the index in Vals of slot i: the slots set before it.
func (b *rawBlock) rank(i int) int {
	w := i / 64
	n := bits.OnesCount64(b.Bits[w] & (1<<(i%64) - 1))
	for _, x := range b.Bits[:w] {
		n += bits.OnesCount64(x)
	}
	return n
}

func (b *rawBlock) has(i int) bool { return b.Bits[i/64]&(1<<(i%64)) != 0 }

// slot returns slot i's aggregate in Full, making it (from the slot's
// single value if it has one, else empty) when there is none; r is i's
// rank.
func (b *rawBlock) slot(i, r int) *Agg {
	if !b.has(i) {
		b.Bits[i/64] |= 1 << (i % 64)
		b.Vals = slices.Insert(b.Vals, r, 0)
		a := &Agg{}
		b.full()[uint16(i)] = a
		return a
	}
	a := b.Full[uint16(i)]
	if a == nil {
		a = &Agg{}
		a.AddValue(b.Vals[r], 1)
		b.full()[uint16(i)] = a
	}
	return a
}

// add adds s to the bucket of slot i.
func (b *rawBlock) add(i int, s *Sample) {
	r := b.rank(i)
	if v, ok := s.single(); ok && !b.has(i) {
		b.Bits[i/64] |= 1 << (i % 64)
		b.Vals = slices.Insert(b.Vals, r, v)
		return
	}
	s.addTo(b.slot(i, r))
}

// fold adds a bucket of a finer tier to the bucket of slot i, as
// Agg.fold.
func (b *rawBlock) fold(i int, a *Agg) {
	r := b.rank(i)
	if a.Count == 1 && a.Dist == nil && !a.NoPct && !b.has(i) {
		b.Bits[i/64] |= 1 << (i % 64)
		b.Vals = slices.Insert(b.Vals, r, a.Min)
		return
	}
	b.slot(i, r).fold(a)
}

func (b *rawBlock) full() map[uint16]*Agg {
	if b.Full == nil {
		b.Full = map[uint16]*Agg{}
	}
	return b.Full
}

// dropBefore drops slots [0, i): Vals by reslicing, as dropHead. It
// reports whether the block is left empty.
func (b *rawBlock) dropBefore(i int) bool {
	if i <= 0 {
		return len(b.Vals) == 0
	}
	i = min(i, blockSpan)
	b.Vals = b.Vals[b.rank(i):]
	for w := 0; w*64 < i; w++ {
		if (w+1)*64 <= i {
			b.Bits[w] = 0
		} else {
			b.Bits[w] &^= 1<<(i%64) - 1
		}
	}
	for k := range b.Full {
		if int(k) < i {
			delete(b.Full, k)
		}
	}
	return len(b.Vals) == 0
}

// each calls fn with the block's buckets whose time is in [from, to), in
// time order; res is the width of a slot.
func (b *rawBlock) each(from, to, res int64, fn func(t int64, a *Agg)) {
	lo := int(min(max(ceilDiv(from-b.Start, res), 0), blockSpan))
	hi := int(min(max(ceilDiv(to-b.Start, res), 0), blockSpan))
	if lo >= hi {
		return
	}
	r := b.rank(lo)
	var one Agg
	for w := lo / 64; w*64 < hi; w++ {
		word := b.Bits[w]
		if w == lo/64 {
			word &^= 1<<(lo%64) - 1
		}
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if i >= hi {
				return
			}
			if a := b.Full[uint16(i)]; a != nil {
				fn(b.Start+int64(i)*res, a)
			} else {
				v := b.Vals[r]
				one = Agg{Count: 1, Sum: v, Min: v, Max: v}
				fn(b.Start+int64(i)*res, &one)
			}
			r++
		}
	}
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
