package rds_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Serverless v2 ranges through the SDK: a minimum of 0 (automatic pause,
// which minicloud does not do) is refused on create and modify, as AWS
// refuses it for an engine version without auto-pause; 0.5 and up are
// recorded and shown.
func TestServerlessRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	scaling := func(lo, hi float64) *types.ServerlessV2ScalingConfiguration {
		return &types.ServerlessV2ScalingConfiguration{MinCapacity: aws.Float64(lo), MaxCapacity: aws.Float64(hi)}
	}
	in := clusterInput("sv", "")
	in.ServerlessV2ScalingConfiguration = scaling(0, 4)
	_, err := e.rds.CreateDBCluster(e.ctx, in)
	wantCode(t, err, "InvalidParameterValue")
	in.ServerlessV2ScalingConfiguration = scaling(0.5, 4)
	if _, err := e.rds.CreateDBCluster(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lo, hi float64
		code   string
	}{
		{0, 8, "InvalidParameterValue"},
		{0.25, 8, "InvalidParameterValue"},
		{1, 8, ""},
	} {
		_, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("sv"), ServerlessV2ScalingConfiguration: scaling(tc.lo, tc.hi)})
		if tc.code != "" {
			wantCode(t, err, tc.code)
		} else if err != nil {
			t.Fatalf("ModifyDBCluster %.1f-%.1f: %v", tc.lo, tc.hi, err)
		}
	}
	got := e.cluster(t, "sv").ServerlessV2ScalingConfiguration
	if got == nil || aws.ToFloat64(got.MinCapacity) != 1 || aws.ToFloat64(got.MaxCapacity) != 8 {
		t.Errorf("ServerlessV2ScalingConfiguration %+v, want 1-8", got)
	}
}
