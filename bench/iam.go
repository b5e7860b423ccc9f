//go:build bench

package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/minicloud/minicloud/internal/sdktest"
)

// iamScenarios measure what IAM enforcement adds to a call: the same
// binary twice, --iam enforce and off, each called by an IAM user whose
// policy allows ec2:Describe* (so both resolve the user's key and verify
// its signature; only the evaluation differs). The -ct-* flags bound it.
// Not in "all".
var iamScenarios = []string{"iam"}

const (
	iamBenchKey    = "AKIDBENCHROOT"
	iamBenchSecret = "bench-root-secret"
	iamBenchPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Describe","Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},` +
		`{"Sid":"NotProd","Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`
)

func runIAM(o ctOptions, bin, tmp string) ([]*ctResult, error) {
	mk := func(name, mode string) *server {
		return &server{
			name: name, bin: bin, readyPath: "/_minicloud/health", readyMax: 10 * time.Second, minicloud: true,
			args: func(port int) []string {
				return []string{"serve", "--listen", fmt.Sprintf("%s:%d", host, port), "--ephemeral",
					"--data-plane", "off", "--dns-listen", "off", "--cloudtrail", "off",
					"--accounts", iamBenchKey + "=111111111111:" + iamBenchSecret, "--iam", mode}
			},
		}
	}
	servers := []*server{mk("iam enforce", "enforce"), mk("iam off", "off")}
	var clients []*ec2.Client
	for _, s := range servers {
		p, err := start(s, tmp)
		if err != nil {
			return nil, err
		}
		defer p.stop()
		if _, err := p.waitReady(); err != nil {
			return nil, err
		}
		c, err := benchUser(p.url())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		clients = append(clients, c)
	}
	return sideBySide(o, servers, clients)
}

// benchUser creates the IAM user the scenario calls as and returns an EC2
// client signing with its key.
func benchUser(url string) (*ec2.Client, error) {
	ctx := context.Background()
	admin := iam.New(iam.Options{Region: region, BaseEndpoint: aws.String(url), HTTPClient: sdktest.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(iamBenchKey, iamBenchSecret, "")})
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")}); err != nil {
		return nil, err
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bench"), PolicyName: aws.String("describe"),
		PolicyDocument: aws.String(iamBenchPolicy)}); err != nil {
		return nil, err
	}
	k, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		return nil, err
	}
	c, _ := newEC2(url, 1)
	opts := c.Options()
	opts.Credentials = credentials.NewStaticCredentialsProvider(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
	return ec2.New(opts), nil
}

func reportIAM(w io.Writer, o ctOptions, rs []*ctResult) {
	fmt.Fprintf(w, "\niam: the same binary twice, serve --ephemeral --data-plane off --cloudtrail off --iam enforce|off, signatures verified on both; an IAM user allowed ec2:Describe* (and denied ec2:* on env=prod); aws-sdk-go-v2 EC2 client (SigV4, no retries), one connection\n")
	fmt.Fprintf(w, "iam: %d warm-up + %d rounds × %d sequential DescribeVpcs per server, alternating which server goes first\n", o.warm, o.rounds, o.calls)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tcalls\tp50\tp90\tp99\terrors\t")
	for _, r := range rs {
		errs := "0"
		if r.firstErr != nil {
			errs = fmt.Sprintf("%d (%v)", o.rounds*o.calls-len(r.lat), r.firstErr)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", r.name, len(r.lat), us(pct(r.lat, 50)), us(pct(r.lat, 90)), us(pct(r.lat, 99)), errs)
	}
	_ = tw.Flush()
	if len(rs) == 2 {
		fmt.Fprintf(w, "iam: enforcement adds %s at p50, %s at p99\n", us(pct(rs[0].lat, 50)-pct(rs[1].lat, 50)), us(pct(rs[0].lat, 99)-pct(rs[1].lat, 99)))
	}
}
