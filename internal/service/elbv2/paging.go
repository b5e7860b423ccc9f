package elbv2

import (
	"strconv"

	"github.com/minicloud/minicloud/internal/state"
)

// Describe calls page with Marker and PageSize (1 to 400); without
// PageSize a call answers everything, in key order.

// pageOptions is ELB's pagination contract.
var pageOptions = state.PageOptions{
	Min: 1, Max: 400, Param: "pageSize", SizeCode: "ValidationError", TokenCode: "ValidationError",
	SizeMessage: func(n, min, max int) string {
		bound := "greater than or equal to 1"
		if n > max {
			bound = "less than or equal to 400"
		}
		return "1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'pageSize' failed to satisfy constraint: Member must have value " + bound
	},
	TokenMessage: func(tok string) string { return "Invalid value for marker: '" + tok + "'" },
}

// paginate is the page of items after marker, ordered by key, and the
// next marker (nil on the last page).
func paginate[T any](items []T, pageSize *int32, marker *string, key func(T) string) ([]T, *string, error) {
	page, next, err := state.Paginate(items, pageSize, deref(marker), pageOptions, key)
	if err != nil {
		return nil, nil, err
	}
	if next == "" {
		return page, nil, nil
	}
	return page, &next, nil
}
