package metrics

import (
	"math/bits"
	"slices"
)

// blockSpan is the seconds of one raw block.
const blockSpan = 3600

// rawBlock is an hour of the raw tier, by second, in columns: which
// seconds have data (Bits), and for each of them in time order its value
// (Vals) when its bucket is one sample counted once — what a publisher or
// a high-resolution PutMetricData puts — so such a second costs 8 bytes
// rather than a 56-byte bucket. A second with more (several samples, a
// count, a statistic set) has its whole aggregate in Full and a
// placeholder in Vals. Timestamps are implicit: Start plus the bit's
// index.
type rawBlock struct {
	Start int64
	Bits  [(blockSpan + 63) / 64]uint64
	Vals  []float64
	Full  map[uint16]*Agg
}

// rank is the index in Vals of second i: the seconds set before it.
func (b *rawBlock) rank(i int) int {
	w := i / 64
	n := bits.OnesCount64(b.Bits[w] & (1<<(i%64) - 1))
	for _, x := range b.Bits[:w] {
		n += bits.OnesCount64(x)
	}
	return n
}

func (b *rawBlock) has(i int) bool { return b.Bits[i/64]&(1<<(i%64)) != 0 }

// add adds s to the bucket of second t.
func (b *rawBlock) add(t int64, s *Sample) {
	i := int(t - b.Start)
	r := b.rank(i)
	if !b.has(i) {
		b.Bits[i/64] |= 1 << (i % 64)
		v, ok := s.single()
		b.Vals = slices.Insert(b.Vals, r, v)
		if ok {
			return
		}
		a := &Agg{}
		s.addTo(a)
		b.full()[uint16(i)] = a
		return
	}
	a := b.Full[uint16(i)]
	if a == nil {
		v := b.Vals[r]
		a = &Agg{}
		a.AddValue(v, 1)
		b.full()[uint16(i)] = a
	}
	s.addTo(a)
}

func (b *rawBlock) full() map[uint16]*Agg {
	if b.Full == nil {
		b.Full = map[uint16]*Agg{}
	}
	return b.Full
}

// each calls fn with the block's buckets in [from, to), in time order.
func (b *rawBlock) each(from, to int64, fn func(t int64, a *Agg)) {
	lo := int(max(from-b.Start, 0))
	hi := int(min(to-b.Start, blockSpan))
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
				fn(b.Start+int64(i), a)
			} else {
				v := b.Vals[r]
				one = Agg{Count: 1, Sum: v, Min: v, Max: v}
				fn(b.Start+int64(i), &one)
			}
			r++
		}
	}
}
