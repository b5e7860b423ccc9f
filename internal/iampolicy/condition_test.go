package iampolicy

import (
	"fmt"
	"testing"
)

// missing marks a key absent from the request.
var missing []string

func vals(v ...string) []string { return v }

// TestConditionOperators evaluates one condition through Evaluate (an
// Allow statement carrying it) for every operator. Unless a comment says
// otherwise, cases come from "IAM JSON policy elements: Condition
// operators" (the operator's section and its example) and, for missing
// keys and multi-valued keys, from "Condition keys with multiple values"
// (set operators) and "IAM JSON policy elements: Condition" ("If the key
// that you specify in a policy condition is not present in the request
// context, the values do not match" — except for negated operators).
func TestConditionOperators(t *testing.T) {
	cases := []struct {
		op, key, values string // values: JSON
		ctx             []string
		want            bool
	}{
		// String condition operators.
		{"StringEquals", "aws:PrincipalTag/job-category", `"iamuser-admin"`, vals("iamuser-admin"), true},
		{"StringEquals", "aws:PrincipalTag/job-category", `"iamuser-admin"`, vals("IAMUser-Admin"), false},
		{"StringEquals", "aws:PrincipalTag/job-category", `"iamuser-admin"`, missing, false},
		{"StringEquals", "aws:PrincipalTag/job-category", `["a","iamuser-admin"]`, vals("iamuser-admin"), true},
		{"StringEquals", "aws:PrincipalTag/job-category", `"iamuser-*"`, vals("iamuser-admin"), false},
		{"StringEquals", "aws:PrincipalTag/job-category", `"iamuser-*"`, vals("iamuser-*"), true},
		{"StringNotEquals", "aws:RequestedRegion", `["us-east-1","us-west-2"]`, vals("eu-west-1"), true},
		{"StringNotEquals", "aws:RequestedRegion", `["us-east-1","us-west-2"]`, vals("us-east-1"), false},
		{"StringNotEquals", "aws:RequestedRegion", `"us-east-1"`, missing, true},
		{"StringNotEquals", "aws:RequestedRegion", `"us-east-1"`, vals("US-EAST-1"), true},
		{"StringEqualsIgnoreCase", "aws:PrincipalTag/name", `"Jane"`, vals("jANE"), true},
		{"StringEqualsIgnoreCase", "aws:PrincipalTag/name", `"Jane"`, vals("Janet"), false},
		{"StringEqualsIgnoreCase", "aws:PrincipalTag/name", `"Jane"`, missing, false},
		{"StringNotEqualsIgnoreCase", "aws:PrincipalTag/name", `"Jane"`, vals("JANE"), false},
		{"StringNotEqualsIgnoreCase", "aws:PrincipalTag/name", `"Jane"`, vals("Bob"), true},
		{"StringNotEqualsIgnoreCase", "aws:PrincipalTag/name", `"Jane"`, missing, true},
		{"StringLike", "s3:prefix", `["","home/","home/${aws:username}/*"]`, vals("home/bob/docs"), true},
		{"StringLike", "s3:prefix", `["","home/","home/${aws:username}/*"]`, vals("home/alice/docs"), false},
		{"StringLike", "s3:prefix", `["","home/","home/${aws:username}/*"]`, vals(""), true}, // the example lets the root be listed
		{"StringLike", "s3:prefix", `["","home/","home/${aws:username}/*"]`, vals("home/"), true},
		{"StringLike", "s3:prefix", `"home/*"`, missing, false},
		{"StringLike", "aws:PrincipalTag/cost-center", `"cc-???"`, vals("cc-123"), true},
		{"StringLike", "aws:PrincipalTag/cost-center", `"cc-???"`, vals("cc-1234"), false},
		{"StringLike", "aws:PrincipalTag/cost-center", `"CC-*"`, vals("cc-1"), false},
		{"StringNotLike", "aws:userid", `["AROAEXAMPLE:*","111122223333"]`, vals("AIDAEXAMPLE"), true},
		{"StringNotLike", "aws:userid", `["AROAEXAMPLE:*","111122223333"]`, vals("AROAEXAMPLE:alice"), false},
		{"StringNotLike", "aws:userid", `"AROA*"`, missing, true},
		{"StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, missing, true},
		{"StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, vals("t2.micro"), true},
		{"StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, vals("m5.large"), false},
		{"StringEqualsIfExists", "aws:RequestedRegion", `"us-east-1"`, vals("us-west-2"), false},
		{"StringNotEqualsIfExists", "aws:RequestedRegion", `"us-east-1"`, missing, true},
		{"StringNotEqualsIfExists", "aws:RequestedRegion", `"us-east-1"`, vals("us-east-1"), false},
		// Numeric condition operators.
		{"NumericLessThanEquals", "s3:max-keys", `"10"`, vals("10"), true},
		{"NumericLessThanEquals", "s3:max-keys", `"10"`, vals("11"), false},
		{"NumericLessThanEquals", "s3:max-keys", `"10"`, vals("9.5"), true},
		{"NumericLessThanEquals", "s3:max-keys", `10`, vals("3"), true},
		{"NumericLessThanEquals", "s3:max-keys", `"10"`, missing, false},
		{"NumericLessThanEquals", "s3:max-keys", `"10"`, vals("ten"), false},
		{"NumericEquals", "s3:max-keys", `"10"`, vals("10.0"), true},
		{"NumericEquals", "s3:max-keys", `["5","10"]`, vals("5"), true},
		{"NumericEquals", "s3:max-keys", `"10"`, vals("11"), false},
		{"NumericNotEquals", "s3:max-keys", `"10"`, vals("11"), true},
		{"NumericNotEquals", "s3:max-keys", `"10"`, vals("10"), false},
		{"NumericNotEquals", "s3:max-keys", `"10"`, missing, true},
		{"NumericLessThan", "s3:max-keys", `"10"`, vals("10"), false},
		{"NumericLessThan", "s3:max-keys", `"10"`, vals("-1"), true},
		{"NumericGreaterThan", "s3:max-keys", `"10"`, vals("10"), false},
		{"NumericGreaterThan", "s3:max-keys", `"10"`, vals("10.01"), true},
		{"NumericGreaterThanEquals", "s3:max-keys", `"10"`, vals("10"), true},
		{"NumericGreaterThanEquals", "s3:max-keys", `"10"`, vals("9"), false},
		{"NumericLessThanIfExists", "s3:max-keys", `"10"`, missing, true},
		{"NumericLessThanIfExists", "s3:max-keys", `"10"`, vals("20"), false},
		// Date condition operators: ISO 8601 and epoch.
		{"DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, vals("2020-06-30T00:00:00Z"), true},
		{"DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, vals("2019-12-31T23:59:59Z"), false},
		{"DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, vals("2020-01-01T00:00:01Z"), false},
		{"DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, missing, false},
		{"DateGreaterThanEquals", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, vals("2020-01-01T00:00:01Z"), true},
		{"DateLessThan", "aws:CurrentTime", `"2030-12-31T23:59:59Z"`, vals("2026-12-07T20:00:00Z"), true},
		{"DateLessThan", "aws:CurrentTime", `"2030-12-31T23:59:59Z"`, vals("2031-01-01T00:00:00Z"), false},
		{"DateLessThan", "aws:CurrentTime", `"2030-12-31"`, vals("2030-12-30T12:00:00Z"), true},
		{"DateLessThanEquals", "aws:CurrentTime", `"2030-12-31T23:59:59Z"`, vals("2030-12-31T23:59:59Z"), true},
		{"DateLessThan", "aws:EpochTime", `"1577836800"`, vals("1577836799"), true},
		{"DateLessThan", "aws:EpochTime", `1577836800`, vals("1577836800"), false},
		{"DateEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, vals("1577836800"), true},
		{"DateEquals", "aws:CurrentTime", `"2020-01-01T01:00:00+01:00"`, vals("2020-01-01T00:00:00Z"), true},
		{"DateEquals", "aws:CurrentTime", `"2020-01-01T00:00:00.000Z"`, vals("2020-01-01T00:00:00Z"), true},
		{"DateNotEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, vals("2020-01-02T00:00:00Z"), true},
		{"DateNotEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, missing, true},
		{"DateGreaterThan", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, vals("not a date"), false},
		{"DateLessThanIfExists", "aws:TokenIssueTime", `"2020-01-01T00:00:00Z"`, missing, true},
		// Boolean condition operators.
		{"Bool", "aws:SecureTransport", `"true"`, vals("true"), true},
		{"Bool", "aws:SecureTransport", `"true"`, vals("false"), false},
		{"Bool", "aws:SecureTransport", `true`, vals("TRUE"), true},
		{"Bool", "aws:SecureTransport", `"true"`, missing, false},
		{"Bool", "aws:SecureTransport", `"false"`, missing, false},
		{"Bool", "aws:MultiFactorAuthPresent", `"false"`, vals("false"), true},
		{"BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, missing, true},
		{"BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, vals("true"), false},
		{"BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, vals("false"), true},
		// Binary condition operators.
		{"BinaryEquals", "svc:Binary", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, vals("QmluYXJ5VmFsdWVJbkJhc2U2NA=="), true},
		{"BinaryEquals", "svc:Binary", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, vals("QmluYXJ5"), false},
		{"BinaryEquals", "svc:Binary", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, missing, false},
		// IP address condition operators.
		{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, vals("203.0.113.17"), true},
		{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, vals("203.0.114.1"), false},
		{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, missing, false},
		{"IpAddress", "aws:SourceIp", `["203.0.113.0/24","2001:DB8:1234:5678::/64"]`, vals("2001:db8:1234:5678::1"), true},
		{"IpAddress", "aws:SourceIp", `["203.0.113.0/24","2001:DB8:1234:5678::/64"]`, vals("2001:db8:1234:5679::1"), false},
		{"IpAddress", "aws:SourceIp", `"203.0.113.5"`, vals("203.0.113.5"), true},
		{"IpAddress", "aws:SourceIp", `"203.0.113.5/24"`, vals("203.0.113.99"), true},
		{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, vals("::ffff:203.0.113.7"), true},
		{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, vals("bogus"), false},
		{"NotIpAddress", "aws:SourceIp", `["192.0.2.0/24","203.0.113.0/24"]`, vals("198.51.100.1"), true},
		{"NotIpAddress", "aws:SourceIp", `["192.0.2.0/24","203.0.113.0/24"]`, vals("192.0.2.44"), false},
		{"NotIpAddress", "aws:SourceIp", `"192.0.2.0/24"`, missing, true},
		{"IpAddressIfExists", "aws:SourceIp", `"192.0.2.0/24"`, missing, true},
		// ARN condition operators: per segment, case-sensitive; ArnEquals
		// and ArnLike alike.
		{"ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:TOPIC-ID"`, vals("arn:aws:sns:us-east-1:123456789012:TOPIC-ID"), true},
		{"ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:TOPIC-ID"`, vals("arn:aws:sns:us-east-1:123456789012:topic-id"), false},
		{"ArnEquals", "aws:SourceArn", `"arn:aws:sns:*:123456789012:TOPIC-ID"`, vals("arn:aws:sns:eu-west-1:123456789012:TOPIC-ID"), true},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:*:123456789012:*"`, vals("arn:aws:sns:eu-west-1:123456789012:t"), true},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:*:123456789012:*"`, vals("arn:aws:sns:eu-west-1:210987654321:t"), false},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:*:123456789012:*"`, vals("not-an-arn"), false},
		{"ArnLike", "aws:SourceArn", `"arn:aws:sns:*:123456789012:*"`, missing, false},
		{"ArnLike", "aws:PrincipalArn", `"arn:aws:iam::111122223333:user/*"`, vals("arn:aws:iam::111122223333:user/bob"), true},
		{"ArnNotEquals", "aws:PrincipalArn", `"arn:aws:iam::111122223333:role/Admin"`, vals("arn:aws:iam::111122223333:role/Dev"), true},
		{"ArnNotEquals", "aws:PrincipalArn", `"arn:aws:iam::111122223333:role/Admin"`, vals("arn:aws:iam::111122223333:role/Admin"), false},
		{"ArnNotLike", "aws:PrincipalArn", `"arn:aws:iam::*:role/Admin*"`, vals("arn:aws:iam::111122223333:role/AdminX"), false},
		{"ArnNotLike", "aws:PrincipalArn", `"arn:aws:iam::*:role/Admin*"`, missing, true},
		{"ArnLikeIfExists", "aws:SourceArn", `"arn:aws:sns:*:*:*"`, missing, true},
		// Null: true means "the key is absent".
		{"Null", "aws:TokenIssueTime", `"true"`, missing, true},
		{"Null", "aws:TokenIssueTime", `"true"`, vals("2020-01-01T00:00:00Z"), false},
		{"Null", "aws:TokenIssueTime", `"false"`, vals("2020-01-01T00:00:00Z"), true},
		{"Null", "aws:TokenIssueTime", `"false"`, missing, false},
		{"Null", "aws:TokenIssueTime", `false`, missing, false},
		{"Null", "aws:TagKeys", `"true"`, vals(), true},
		// Set operators ("Set operators for multivalued context keys").
		{"ForAllValues:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals("environment"), true},
		{"ForAllValues:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals("environment", "cost-center"), true},
		{"ForAllValues:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals("environment", "owner"), false},
		{"ForAllValues:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, missing, true},
		{"ForAllValues:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals(), true},
		{"ForAllValues:StringLike", "aws:TagKeys", `["env*"]`, vals("env1", "environment"), true},
		{"ForAllValues:StringNotEquals", "aws:TagKeys", `["owner"]`, vals("env", "cost"), true},
		{"ForAllValues:StringNotEquals", "aws:TagKeys", `["owner"]`, vals("env", "owner"), false},
		{"ForAnyValue:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals("owner", "environment"), true},
		{"ForAnyValue:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals("owner"), false},
		{"ForAnyValue:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, missing, false},
		{"ForAnyValue:StringEquals", "aws:TagKeys", `["environment","cost-center"]`, vals(), false},
		{"ForAnyValue:StringNotEquals", "aws:TagKeys", `["owner"]`, vals("owner", "env"), true},
		{"ForAnyValue:StringNotEquals", "aws:TagKeys", `["owner"]`, vals("owner"), false},
		{"ForAnyValue:StringEqualsIgnoreCase", "aws:TagKeys", `["Owner"]`, vals("OWNER"), true},
		{"ForAnyValue:NumericGreaterThan", "ec2:VolumeSize", `"100"`, vals("50", "200"), true},
		{"ForAllValues:NumericLessThan", "ec2:VolumeSize", `"100"`, vals("50", "200"), false},
		{"ForAnyValue:IpAddress", "aws:SourceIp", `"10.0.0.0/8"`, vals("192.0.2.1", "10.1.1.1"), true},
		{"ForAnyValue:ArnLike", "aws:CalledVia", `"arn:aws:*"`, vals("cloudformation.amazonaws.com"), false},
		{"ForAnyValue:StringEquals", "aws:CalledVia", `"cloudformation.amazonaws.com"`, vals("athena.amazonaws.com", "cloudformation.amazonaws.com"), true},
		{"ForAllValues:StringEquals", "dynamodb:Attributes", `["ID","Message","Tags"]`, vals("ID", "Message"), true},
		{"ForAllValues:StringEquals", "dynamodb:Attributes", `["ID","Message","Tags"]`, vals("ID", "Secret"), false},
		// Multi-valued key without a set operator: positive operators need
		// one match, negated ones need none.
		{"StringEquals", "aws:TagKeys", `"owner"`, vals("env", "owner"), true},
		{"StringEquals", "aws:TagKeys", `"owner"`, vals("env", "cost"), false},
		{"StringNotEquals", "aws:TagKeys", `"owner"`, vals("env", "owner"), false},
		{"StringNotEquals", "aws:TagKeys", `"owner"`, vals("env", "cost"), true},
		// Keys are case-insensitive.
		{"StringEquals", "AWS:REQUESTEDREGION", `"us-east-1"`, vals("us-east-1"), true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d_%s_%s", i, c.op, c.key), func(t *testing.T) {
			doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{%q:{%q:%s}}}}`, c.op, c.key, c.values)
			p := pol(t, Identity, "cond", doc)
			ctx := Context{}
			if c.ctx != nil {
				ctx.Set(c.key, c.ctx...)
			}
			d := Evaluate(Request{Principal: user("bob"), Action: "s3:ListBucket", Context: ctx}, PolicySet{Identity: []*Policy{p}})
			if d.Allowed() != c.want {
				t.Errorf("%s %s %s with %q: allowed = %v, want %v", c.op, c.key, c.values, c.ctx, d.Allowed(), c.want)
			}
		})
	}
}

// TestConditionBlocks: "IAM JSON policy elements: Condition" — several
// operators and keys are AND'ed, the values of one key OR'ed; principal
// keys come from the principal.
func TestConditionBlocks(t *testing.T) {
	bob := user("bob")
	bob.Tags = map[string]string{"Department": "Sales", "team": "blue"}
	sess := session("Dev", "alice")
	cases := []struct {
		name      string
		principal Principal
		condition string
		ctx       Context
		want      bool
	}{
		{"and both true", bob, `{"StringEquals":{"aws:username":"bob"},"Bool":{"aws:SecureTransport":"true"}}`, Context{}.Set("aws:SecureTransport", "true"), true},
		{"and one false", bob, `{"StringEquals":{"aws:username":"bob"},"Bool":{"aws:SecureTransport":"true"}}`, Context{}.Set("aws:SecureTransport", "false"), false},
		{"two keys one operator", bob, `{"StringEquals":{"aws:username":"bob","aws:RequestedRegion":"us-east-1"}}`, Context{}.Set("aws:RequestedRegion", "us-east-1"), true},
		{"two keys one false", bob, `{"StringEquals":{"aws:username":"bob","aws:RequestedRegion":"us-east-1"}}`, Context{}.Set("aws:RequestedRegion", "eu-west-1"), false},
		{"values or'ed", bob, `{"StringEquals":{"aws:username":["alice","bob"]}}`, nil, true},
		{"principal tag key case-insensitive", bob, `{"StringEquals":{"aws:PrincipalTag/department":"Sales"}}`, nil, true},
		{"principal tag value case-sensitive", bob, `{"StringEquals":{"aws:PrincipalTag/department":"sales"}}`, nil, false},
		{"principal tag matches request tag", bob, `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, Context{}.Set("aws:ResourceTag/team", "blue"), true},
		{"principal tag vs other request tag", bob, `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, Context{}.Set("aws:ResourceTag/team", "red"), false},
		{"username absent for sessions", sess, `{"StringEquals":{"aws:username":"alice"}}`, nil, false},
		{"principal arn of session is the role", sess, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Dev"}}`, nil, true},
		{"userid of session", sess, `{"StringLike":{"aws:userid":"*:alice"}}`, nil, true},
		{"principal type", sess, `{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`, nil, true},
		{"principal account", bob, `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`, nil, true},
		{"context overrides derived", bob, `{"StringEquals":{"aws:username":"carol"}}`, Context{}.Set("aws:username", "carol"), true},
		{"current time from the clock", bob, `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"DateLessThan":{"aws:EpochTime":"4102444800"}}`, nil, true},
		{"current time from the request", bob, `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, Context{}.Set("aws:CurrentTime", "2019-01-01T00:00:00Z"), false},
		{"variable in condition, 2012", bob, `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, Context{}.Set("s3:prefix", "home/bob/x"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":` + c.condition + `}}`
			p := pol(t, Identity, c.name, doc)
			d := Evaluate(Request{Principal: c.principal, Action: "s3:ListBucket", Context: c.ctx}, PolicySet{Identity: []*Policy{p}})
			if d.Allowed() != c.want {
				t.Errorf("allowed = %v, want %v", d.Allowed(), c.want)
			}
		})
	}
}
