package awsendpoints

import (
	"net/netip"
	"testing"
)

func TestNames(t *testing.T) {
	api, s3 := netip.MustParseAddr("198.19.233.241"), netip.MustParseAddr("198.19.233.242")
	src := New([]string{"us-east-1", "eu-west-1"}, func(svc string) netip.Addr {
		if svc == "s3" {
			return s3
		}
		return api
	})
	sets := src.Sources().Sets()
	for _, tc := range []struct {
		name    string
		want    netip.Addr // invalid: no answer
		covered bool       // some set owns the name
	}{
		{"sts.us-east-1.amazonaws.com.", api, true},
		{"sts.amazonaws.com.", api, true},
		{"iam.amazonaws.com.", api, true},
		{"ssmmessages.eu-west-1.amazonaws.com.", api, true},
		{"api.ecr.eu-west-1.amazonaws.com.", api, true},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com.", api, true},
		{"s3.us-east-1.amazonaws.com.", s3, true},
		{"my-bucket.s3.us-east-1.amazonaws.com.", s3, true},
		{"my-bucket.s3.amazonaws.com.", s3, true},
		{"nothing.us-east-1.amazonaws.com.", netip.Addr{}, true},
		{"sts.ap-south-1.amazonaws.com.", netip.Addr{}, false},
		// Others' domains stay theirs.
		{"ec2-198-19-233-5.compute-1.amazonaws.com.", netip.Addr{}, false},
		{"db.abc.us-east-1.rds.amazonaws.com.", netip.Addr{}, false},
		{"x.us-east-1.elb.amazonaws.com.", netip.Addr{}, false},
	} {
		set := sets.For(tc.name)
		if (set != nil) != tc.covered {
			t.Errorf("%s: covered %v, want %v", tc.name, set != nil, tc.covered)
			continue
		}
		if set == nil {
			continue
		}
		e, ok := set.Lookup(tc.name)
		var got netip.Addr
		if ok {
			got = e.AddrsFrom("vpc-1")[0]
		}
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
