package rds_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"
)

// TestClusterBacktrack: no minicloud DB cluster backtracks, and each
// engine answers as AWS answers for an engine (aurora-postgresql) or
// version (an Aurora MySQL without Backtrack) that has none: BacktrackWindow
// on CreateDBCluster and ModifyDBCluster (0, Backtrack off, is accepted), BacktrackDBCluster and
// DescribeDBClusterBacktracks; a missing cluster is DBClusterNotFoundFault.
func TestClusterBacktrack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ id, eng, master string }{{"pg", "aurora-postgresql", "master"}, {"my", "aurora-mysql", "admin"}} {
		in := clusterInput(c.id, "")
		in.Engine, in.MasterUsername, in.BacktrackWindow = aws.String(c.eng), aws.String(c.master), aws.Int64(0)
		if _, err := e.rds.CreateDBCluster(e.ctx, in); err != nil {
			t.Fatalf("%s with BacktrackWindow 0: %v", c.eng, err)
		}
	}
	create := func(eng, master string) func() error {
		return func() error {
			in := clusterInput("bt", "")
			in.Engine, in.MasterUsername, in.BacktrackWindow = aws.String(eng), aws.String(master), aws.Int64(3600)
			_, err := e.rds.CreateDBCluster(e.ctx, in)
			return err
		}
	}
	backtrack := func(id string) func() error {
		return func() error {
			_, err := e.rds.BacktrackDBCluster(e.ctx, &rds.BacktrackDBClusterInput{DBClusterIdentifier: aws.String(id), BacktrackTo: aws.Time(time.Now().Add(-time.Minute))})
			return err
		}
	}
	modify := func(id string, window int64) func() error {
		return func() error {
			_, err := e.rds.ModifyDBCluster(e.ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String(id), BacktrackWindow: aws.Int64(window), ApplyImmediately: aws.Bool(true)})
			return err
		}
	}
	if err := modify("my", 0)(); err != nil {
		t.Fatalf("ModifyDBCluster with BacktrackWindow 0: %v", err)
	}
	describe := func(id string) func() error {
		return func() error {
			_, err := e.rds.DescribeDBClusterBacktracks(e.ctx, &rds.DescribeDBClusterBacktracksInput{DBClusterIdentifier: aws.String(id)})
			return err
		}
	}
	const (
		pgMsg = "Backtrack is not enabled for the aurora-postgresql engine."
		myMsg = "with mode: PROVISIONED does not support Backtrack."
	)
	for _, tc := range []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"create aurora-postgresql with a window", create("aurora-postgresql", "master"), "InvalidParameterValue", pgMsg},
		{"create aurora-mysql with a window", create("aurora-mysql", "admin"), "InvalidParameterCombination", myMsg},
		{"modify aurora-postgresql with a window", modify("pg", 60), "InvalidParameterValue", pgMsg},
		{"modify aurora-mysql with a window", modify("my", 60), "InvalidParameterCombination", myMsg},
		{"backtrack aurora-postgresql", backtrack("pg"), "InvalidParameterValue", pgMsg},
		{"backtrack aurora-mysql", backtrack("MY"), "InvalidParameterCombination", myMsg},
		{"backtrack missing", backtrack("nosuch"), "DBClusterNotFoundFault", "nosuch"},
		{"describe aurora-postgresql", describe("pg"), "InvalidParameterValue", pgMsg},
		{"describe aurora-mysql", describe("my"), "InvalidParameterCombination", myMsg},
		{"describe missing", describe("nosuch"), "DBClusterNotFoundFault", "nosuch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || !strings.Contains(ae.ErrorMessage(), tc.msg) {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}
