package metrics

import (
	"math"
	"testing"
)

func TestValues(t *testing.T) {
	var exact Agg
	for _, v := range []float64{5, 1, 3, 3} {
		exact.AddValue(v, 1)
	}
	vals, ok := exact.Values()
	if !ok || len(vals) != 3 || vals[0] != (WV{1, 1}) || vals[1] != (WV{3, 2}) || vals[2] != (WV{5, 1}) {
		t.Errorf("exact: %v %v", vals, ok)
	}
	var one Agg
	one.AddSet(4, 8, 2, 2)
	if vals, ok := one.Values(); !ok || len(vals) != 1 || vals[0] != (WV{2, 4}) {
		t.Errorf("one value: %v %v", vals, ok)
	}
	var sets Agg
	sets.AddSet(4, 8, 1, 3)
	if _, ok := sets.Values(); ok {
		t.Error("statistic set with a spread has values")
	}
	// Many distinct values: a sketch, whose values are within 1% and sum
	// to the count.
	var many Agg
	for i := 1; i <= 1000; i++ {
		many.AddValue(float64(i), 1)
		many.AddValue(-float64(i), 1)
	}
	vals, ok = many.Values()
	var n float64
	prev := math.Inf(-1)
	for _, v := range vals {
		n += v.W
		if v.V < prev || v.V < -1000 || v.V > 1000 {
			t.Fatalf("sketch values out of order or range: %v", vals)
		}
		prev = v.V
	}
	if !ok || n != 2000 || many.Dist.Sketch == nil {
		t.Errorf("sketch: weight %v, ok %v, sketch %v", n, ok, many.Dist.Sketch != nil)
	}
}
