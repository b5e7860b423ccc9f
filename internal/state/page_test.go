package state

import (
	"fmt"
	"slices"
	"testing"
)

func i32(n int32) *int32 { return &n }

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("id-%02d", i)
	}
	return out
}

func ident(s string) string { return s }

var ec2Page = PageOptions{Min: 5, Max: 1000}

func TestPaginateValidation(t *testing.T) {
	tests := []struct {
		name  string
		max   *int32
		token string
		opts  PageOptions
		code  string
		msg   string
	}{
		{"below min", i32(3), "", ec2Page, CodeInvalidParameterValue, "Value ( 3 ) for parameter maxResults is invalid. Expect a number between 5 and 1000."},
		{"above max", i32(1001), "", ec2Page, CodeInvalidParameterValue, "Value ( 1001 ) for parameter maxResults is invalid. Expect a number between 5 and 1000."},
		{"min only", i32(0), "", PageOptions{Min: 1}, CodeInvalidParameterValue, "greater than or equal to 1"},
		{"custom param", i32(2), "", PageOptions{Min: 20, Max: 100, Param: "MaxRecords"}, CodeInvalidParameterValue, "parameter MaxRecords"},
		{"custom message", i32(2), "", PageOptions{Min: 20, Max: 100, SizeMessage: func(g, lo, hi int) string {
			return fmt.Sprintf("Invalid value %d for MaxRecords. Must be between %d and %d", g, lo, hi)
		}}, CodeInvalidParameterValue, "Invalid value 2 for MaxRecords. Must be between 20 and 100"},
		{"bad token", nil, "!!not-base64!!", ec2Page, CodeInvalidNextToken, "The token '!!not-base64!!' is invalid."},
		{"foreign base64 token", nil, "aGVsbG8", ec2Page, CodeInvalidNextToken, "is invalid"},
		{"rds token code", nil, "garbage!", PageOptions{TokenCode: CodeInvalidParameterValue}, CodeInvalidParameterValue, "is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Paginate(ids(10), tt.max, tt.token, tt.opts, ident)
			wantErr(t, err, tt.code, tt.msg)
		})
	}
}

func TestPaginateWalk(t *testing.T) {
	tests := []struct {
		name      string
		items     []string
		max       *int32
		opts      PageOptions
		wantPages int
	}{
		{"absent max returns all", ids(30), nil, ec2Page, 1},
		{"default page size", ids(30), nil, PageOptions{Default: 10}, 3},
		{"exact multiple", ids(10), i32(5), ec2Page, 2},
		{"remainder", ids(12), i32(5), ec2Page, 3},
		{"empty", nil, i32(5), ec2Page, 1},
		{"unsorted input", []string{"c", "a", "e", "b", "d", "f"}, i32(5), ec2Page, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			token, pages := "", 0
			for {
				page, next, err := Paginate(tt.items, tt.max, token, tt.opts, ident)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, page...)
				if next == "" {
					break
				}
				token = next
			}
			want := slices.Sorted(slices.Values(tt.items))
			if !slices.Equal(got, want) || pages != tt.wantPages {
				t.Fatalf("got %v in %d pages, want %v in %d", got, pages, want, tt.wantPages)
			}
		})
	}
}

func TestPaginateStableUnderMutation(t *testing.T) {
	items := ids(10)
	page1, next, err := Paginate(items, i32(5), "", ec2Page, ident)
	if err != nil || len(page1) != 5 || next == "" {
		t.Fatalf("page1 = %v %q %v", page1, next, err)
	}
	// Delete the last returned item and one not yet returned, insert one
	// before the cursor and one after: no skips, no repeats.
	mutated := slices.DeleteFunc(slices.Clone(items), func(s string) bool { return s == "id-04" || s == "id-06" })
	mutated = append(mutated, "id-00a", "id-07a")
	page2, next2, err := Paginate(mutated, i32(5), next, ec2Page, ident)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"id-05", "id-07", "id-07a", "id-08", "id-09"}
	if !slices.Equal(page2, want) || next2 != "" {
		t.Fatalf("page2 = %v next=%q, want %v", page2, next2, want)
	}
}
