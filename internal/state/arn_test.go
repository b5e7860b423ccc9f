package state

import (
	"errors"
	"testing"
)

func TestParseARN(t *testing.T) {
	tests := []struct {
		in      string
		want    ARN
		wantErr bool
	}{
		{in: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", want: ARN{"aws", "ec2", "us-east-1", "123456789012", "vpc/vpc-1"}},
		{in: "arn:aws:iam::123456789012:role/path/r", want: ARN{"aws", "iam", "", "123456789012", "role/path/r"}},
		{in: "arn:aws:s3:::bucket/key:with:colons", want: ARN{"aws", "s3", "", "", "bucket/key:with:colons"}},
		{in: "arn:aws-cn:sns:cn-north-1:1:topic", want: ARN{"aws-cn", "sns", "cn-north-1", "1", "topic"}},
		{in: "arn:aws:ec2:us-east-1:1", wantErr: true},
		{in: "urn:aws:ec2:us-east-1:1:x", wantErr: true},
		{in: "arn::ec2:us-east-1:1:x", wantErr: true},
		{in: "arn:aws::us-east-1:1:x", wantErr: true},
		{in: "arn:aws:ec2:us-east-1:1:", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseARN(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidARN) {
				t.Errorf("ParseARN(%q) err = %v, want ErrInvalidARN", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseARN(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestPartitionAndNewARN(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "cn-north-1": "aws-cn",
		"cn-northwest-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "": "aws", GlobalRegion: "aws",
	} {
		if got := PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%q) = %q, want %q", region, got, want)
		}
	}
	if got := NewARN(Scope{"1", "cn-north-1"}, "ec2", "vpc/v").String(); got != "arn:aws-cn:ec2:cn-north-1:1:vpc/v" {
		t.Errorf("regional ARN = %q", got)
	}
	if got := NewARN(Global("1"), "iam", "role/r").String(); got != "arn:aws:iam::1:role/r" {
		t.Errorf("global ARN = %q", got)
	}
}
