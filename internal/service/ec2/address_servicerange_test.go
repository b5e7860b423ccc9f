package ec2_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/minicloud/minicloud/internal/server"
	svc "github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// EC2 never hands out the public range's last /28: AWS's public service
// addresses, which minicloud serves its API on. Five EIPs in every region
// draw over half of a /24 at random, so a draw into the reserved block
// would show at once.
func TestElasticIPsSkipServiceRange(t *testing.T) {
	pool := netip.MustParsePrefix("198.19.233.0/24")
	srv, err := server.New(server.Config{Ephemeral: true, PublicCIDR: pool})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	reserved := vpcnet.ServiceRange(pool)
	n := 0
	for _, region := range svc.RegionNames() {
		c := ec2Client(hs.URL, region, "test")
		for range 5 {
			out, err := c.AllocateAddress(context.Background(), &ec2.AllocateAddressInput{})
			if err != nil {
				t.Fatalf("%s: %v", region, err)
			}
			a := netip.MustParseAddr(aws.ToString(out.PublicIp))
			if !pool.Contains(a) || reserved.Contains(a) {
				t.Fatalf("%s: EIP %s, want one of %s outside %s", region, a, pool, reserved)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d addresses drawn", n)
	}
}
