package authz_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// TestEnforceSSMParameters: with enforcement, parameter access follows
// the parameter ARNs a policy names (arn:aws:ssm:<region>:<account>:
// parameter/<name without its leading slash>), for names, selectors,
// paths and ARNs alike.
func TestEnforceSSMParameters(t *testing.T) {
	base := enforcing(t, true)
	ctx := context.Background()
	rootCfg := cfgFor(base, rootKey, rootSecret, "")
	admin := iam.NewFromConfig(rootCfg)
	root := ssm.NewFromConfig(rootCfg)
	for _, name := range []string{"/app/db/host", "/other/x"} {
		must(root.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString}))
	}
	must(root.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/host"), Labels: []string{"prod"}}))
	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:us-east-1:` + account + `:parameter/app/*"},
		{"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"arn:aws:ssm:us-east-1:` + account + `:parameter/app"},
		{"Effect":"Allow","Action":"ssm:DescribeParameters","Resource":"*"}]}`
	reader := ssm.NewFromConfig(user(t, base, admin, "reader", policy, ""))
	for _, tc := range []struct {
		name    string
		call    func() error
		allowed bool
	}{
		{"by name", func() error {
			_, err := reader.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host")})
			return err
		}, true},
		{"by label", func() error {
			_, err := reader.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host:prod")})
			return err
		}, true},
		{"by ARN", func() error {
			_, err := reader.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:us-east-1:" + account + ":parameter/app/db/host")})
			return err
		}, true},
		{"outside the path", func() error {
			_, err := reader.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/other/x")})
			return err
		}, false},
		{"one name outside", func() error {
			_, err := reader.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/db/host", "/other/x"}})
			return err
		}, false},
		{"the path", func() error {
			_, err := reader.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true)})
			return err
		}, true},
		{"another path", func() error {
			_, err := reader.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/other")})
			return err
		}, false},
		{"describe has no resource", func() error {
			_, err := reader.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
			return err
		}, true},
		{"no write", func() error {
			_, err := reader.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/new"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
			return err
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae smithy.APIError
			denied := errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException"
			if tc.allowed && err != nil || !tc.allowed && !denied {
				t.Fatalf("allowed %t: %v", tc.allowed, err)
			}
		})
	}
}
