package state

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func nTags(n int) []Tag {
	out := make([]Tag, n)
	for i := range out {
		out[i] = Tag{Key: fmt.Sprintf("k%02d", i), Value: "v"}
	}
	return out
}

func wantErr(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var e *Error
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, msgPart) || e.HTTPStatus() != 400 {
		t.Fatalf("err = %v, want %s containing %q", err, code, msgPart)
	}
}

func TestValidateTags(t *testing.T) {
	tests := []struct {
		name string
		tags []Tag
		code string
		msg  string
	}{
		{"none", nil, "", ""},
		{"ok", []Tag{{"Name", "web"}, {"env", ""}}, "", ""},
		{"50 ok", nTags(50), "", ""},
		{"51", nTags(51), CodeTagLimitExceeded, "maximum number of Tags"},
		{"empty key", []Tag{{"", "v"}}, CodeInvalidParameterValue, "Tag key cannot be null or empty"},
		{"key 128 ok", []Tag{{strings.Repeat("k", 128), ""}}, "", ""},
		{"key 128 runes ok", []Tag{{strings.Repeat("é", 128), ""}}, "", ""},
		{"key 129", []Tag{{strings.Repeat("k", 129), ""}}, CodeInvalidParameterValue, "maximum length of 128"},
		{"value 256 ok", []Tag{{"k", strings.Repeat("v", 256)}}, "", ""},
		{"value 257", []Tag{{"k", strings.Repeat("v", 257)}}, CodeInvalidParameterValue, "maximum length of 256"},
		{"aws prefix", []Tag{{"aws:cloudformation:stack-name", "x"}}, CodeInvalidParameterValue,
			"Value ( aws:cloudformation:stack-name ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use"},
		{"AWS prefix any case", []Tag{{"AWS:x", "x"}}, CodeInvalidParameterValue, "reserved for internal use"},
		{"awsish ok", []Tag{{"aws-team", "x"}, {"awsx:y", ""}}, "", ""},
		{"duplicate", []Tag{{"Name", "a"}, {"Name", "b"}}, CodeInvalidParameterValue, "Duplicate tag key 'Name' specified."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, ValidateTags(tt.tags), tt.code, tt.msg) })
	}
}

func TestCheckTagLimit(t *testing.T) {
	full := nTags(50)
	tests := []struct {
		name     string
		existing []Tag
		add      []Tag
		code     string
	}{
		{"overwrite at limit", full, []Tag{{"k00", "new"}}, ""},
		{"new key at limit", full, []Tag{{"extra", ""}}, CodeTagLimitExceeded},
		{"aws tags do not count", append(nTags(49), Tag{"aws:x", ""}), []Tag{{"extra", ""}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, CheckTagLimit(tt.existing, tt.add), tt.code, "") })
	}
}

func ptr(s string) *string { return &s }

func TestMergeRemoveTags(t *testing.T) {
	existing := []Tag{{"b", "2"}, {"a", "1"}, {"empty", ""}}
	got := MergeTags(existing, []Tag{{"c", "3"}, {"a", "one"}})
	want := []Tag{{"a", "one"}, {"b", "2"}, {"c", "3"}, {"empty", ""}}
	if !slices.Equal(got, want) {
		t.Fatalf("MergeTags = %v, want %v", got, want)
	}
	if existing[1].Value != "1" {
		t.Fatal("MergeTags modified its input")
	}
	tests := []struct {
		name   string
		remove []TagKeyValue
		want   []Tag
	}{
		{"no value removes regardless", []TagKeyValue{{Key: "a"}}, []Tag{{"b", "2"}, {"empty", ""}}},
		{"matching value", []TagKeyValue{{Key: "a", Value: ptr("1")}}, []Tag{{"b", "2"}, {"empty", ""}}},
		{"non-matching value keeps", []TagKeyValue{{Key: "a", Value: ptr("x")}}, []Tag{{"a", "1"}, {"b", "2"}, {"empty", ""}}},
		{"empty value only matches empty", []TagKeyValue{{Key: "a", Value: ptr("")}, {Key: "empty", Value: ptr("")}}, []Tag{{"a", "1"}, {"b", "2"}}},
		{"missing key is fine", []TagKeyValue{{Key: "zzz"}}, []Tag{{"a", "1"}, {"b", "2"}, {"empty", ""}}},
		{"empty list removes all", nil, []Tag{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RemoveTags(existing, tt.remove); !slices.Equal(got, tt.want) {
				t.Fatalf("RemoveTags = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTagsFor(t *testing.T) {
	specs := []TagSpecification{
		{ResourceType: "instance", Tags: []Tag{{"Name", "web"}, {"a", "1"}}},
		{ResourceType: "volume", Tags: []Tag{{"v", "1"}}},
	}
	tests := []struct {
		name    string
		specs   []TagSpecification
		rt      string
		allowed []string
		want    []Tag
		code    string
		msg     string
	}{
		{"instance", specs, "instance", []string{"instance", "volume"}, []Tag{{"Name", "web"}, {"a", "1"}}, "", ""},
		{"volume", specs, "volume", []string{"instance", "volume"}, []Tag{{"v", "1"}}, "", ""},
		{"type not in spec", specs, "network-interface", []string{"instance", "volume", "network-interface"}, []Tag{}, "", ""},
		{"disallowed type", specs, "instance", nil, nil, CodeInvalidParameterValue, "'volume' is not a valid taggable resource type for this operation."},
		{"empty type", []TagSpecification{{Tags: []Tag{{"a", ""}}}}, "vpc", nil, nil, CodeInvalidParameterValue, "must have a value"},
		{"repeated type", []TagSpecification{{ResourceType: "vpc"}, {ResourceType: "vpc"}}, "vpc", nil, nil, CodeInvalidParameterValue, "more than once"},
		{"invalid tags", []TagSpecification{{ResourceType: "vpc", Tags: []Tag{{"aws:x", ""}}}}, "vpc", nil, nil, CodeInvalidParameterValue, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TagsFor(tt.specs, tt.rt, tt.allowed...)
			wantErr(t, err, tt.code, tt.msg)
			if tt.code == "" && !slices.Equal(got, tt.want) {
				t.Fatalf("TagsFor = %v, want %v", got, tt.want)
			}
		})
	}
}
