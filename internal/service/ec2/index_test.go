package ec2

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// inTx runs fn in a read-write transaction of a fresh memory store's
// us-east-1 scope at now.
func inTx(t *testing.T, s state.Store, now time.Time, fn func(*rtx) error) {
	t.Helper()
	err := s.Update(context.Background(), func(tx state.Tx) error {
		return fn(&rtx{ctx: context.Background(), tx: tx, scope: state.Scope{Account: "123456789012", Region: "us-east-1"}, now: now})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testENI(id, subnet string, ips ...string) *networkInterfaceRecord {
	e := &networkInterfaceRecord{ec2api.NetworkInterface{NetworkInterfaceId: new(id), SubnetId: new(subnet)}}
	for i, ip := range ips {
		if i == 0 {
			e.PrivateIpAddress = new(ip)
		}
		e.PrivateIpAddresses = append(e.PrivateIpAddresses, ec2api.NetworkInterfacePrivateIpAddress{PrivateIpAddress: new(ip), Primary: new(i == 0)})
	}
	return e
}

// TestAllocatePrivateIPIndex checks the address index against what AWS
// answers: the lowest free address after the four reserved, the requested
// one unless taken, and the free count, whatever other subnets hold.
func TestAllocatePrivateIPIndex(t *testing.T) {
	tests := []struct {
		name      string
		cidr      string
		enis      [][]string // addresses of each ENI in the subnet
		requested string
		want      string // address, or error code
		wantFree  int32
	}{
		{"empty", "10.0.1.0/24", nil, "", "10.0.1.4", 251},
		{"after the used run", "10.0.1.0/24", [][]string{{"10.0.1.4"}, {"10.0.1.5", "10.0.1.6"}}, "", "10.0.1.7", 248},
		{"first gap", "10.0.1.0/24", [][]string{{"10.0.1.4", "10.0.1.6"}, {"10.0.1.7"}}, "", "10.0.1.5", 248},
		{"gap above a high address", "10.0.1.0/24", [][]string{{"10.0.1.200"}}, "", "10.0.1.4", 250},
		{"a full block is skipped", "10.0.0.0/23", [][]string{blockOf("10.0.0", 4, 256)}, "", "10.0.1.0", 255},
		{"gap in the second block", "10.0.0.0/23", [][]string{blockOf("10.0.0", 4, 256), blockOf("10.0.1", 0, 7), blockOf("10.0.1", 8, 9)}, "", "10.0.1.7", 247},
		{"last block full up to the broadcast", "10.0.0.0/23", [][]string{blockOf("10.0.0", 4, 256), blockOf("10.0.1", 0, 255)}, "", "InsufficientFreeAddressesInSubnet", 0},
		{"requested free", "10.0.1.0/24", [][]string{{"10.0.1.4"}}, "10.0.1.9", "10.0.1.9", 250},
		{"requested in use as a secondary", "10.0.1.0/24", [][]string{{"10.0.1.4", "10.0.1.9"}}, "10.0.1.9", "InvalidIPAddress.InUse", 249},
		{"full /28", "10.0.1.0/28", [][]string{{"10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7", "10.0.1.8", "10.0.1.9"}, {"10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.13", "10.0.1.14"}}, "", "InsufficientFreeAddressesInSubnet", 0},
		{"last usable of a /28", "10.0.1.0/28", [][]string{{"10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7", "10.0.1.8", "10.0.1.9"}, {"10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.13"}}, "", "10.0.1.14", 1},
		{"top of the address space", "255.255.255.240/28", nil, "", "255.255.255.244", 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := state.NewMemory()
			defer s.Close()
			sn := &subnetRecord{ec2api.Subnet{SubnetId: new("subnet-11111111"), CidrBlock: new(tt.cidr)}}
			inTx(t, s, time.Now(), func(x *rtx) error {
				// Another subnet's addresses never count.
				if err := networkInterfaces.put(x, testENI("eni-00000000", "subnet-22222222", "10.0.1.4", "10.0.1.5")); err != nil {
					return err
				}
				for i, ips := range tt.enis {
					if err := networkInterfaces.put(x, testENI(fmt.Sprintf("eni-%08d", i+1), "subnet-11111111", ips...)); err != nil {
						return err
					}
				}
				return nil
			})
			inTx(t, s, time.Now(), func(x *rtx) error {
				free, err := availableIPCount(x, sn)
				if err != nil || free != tt.wantFree {
					t.Errorf("availableIPCount = %d, %v; want %d", free, err, tt.wantFree)
				}
				a, err := allocatePrivateIP(x, sn, tt.requested)
				got := a.String()
				if err != nil {
					got = errCodeOf(err)
				}
				if got != tt.want {
					t.Errorf("allocatePrivateIP = %s (%v), want %s", got, err, tt.want)
				}
				return nil
			})
		})
	}
}

// blockOf is the addresses prefix.from … prefix.(to-1).
func blockOf(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s.%d", prefix, i))
	}
	return out
}

// errCodeOf is the AWS error code of err, or its text.
func errCodeOf(err error) string {
	if c, ok := err.(interface{ ErrorCode() string }); ok {
		return c.ErrorCode()
	}
	return err.Error()
}

// TestInstancePurgeIndex: a launch forgets exactly the instances terminated
// an hour or more ago, through the index of termination times.
func TestInstancePurgeIndex(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	inst := func(id, st string, terminatedAgo time.Duration) *instanceRecord {
		r := &instanceRecord{Instance: ec2api.Instance{InstanceId: new(id), State: instanceState(st)}}
		if terminatedAgo > 0 {
			r.TerminatedAt = now.Add(-terminatedAgo)
		}
		return r
	}
	tests := []struct {
		name string
		recs []*instanceRecord
		want []string // left after the purge
	}{
		{"nothing terminated", []*instanceRecord{inst("i-00000001", stateRunning, 0)}, []string{"i-00000001"}},
		{"expired and recent", []*instanceRecord{
			inst("i-00000001", stateTerminated, 2*time.Hour),
			inst("i-00000002", stateTerminated, 59*time.Minute),
			inst("i-00000003", stateTerminated, time.Hour),
			inst("i-00000004", stateRunning, 0),
			inst("i-00000005", stateTerminated, 3*time.Hour+time.Nanosecond),
		}, []string{"i-00000002", "i-00000004"}},
		{"stopped long ago is kept", []*instanceRecord{inst("i-00000001", stateStopped, 5*time.Hour)}, []string{"i-00000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := state.NewMemory()
			defer s.Close()
			inTx(t, s, now, func(x *rtx) error {
				for _, r := range tt.recs {
					if err := instances.put(x, r); err != nil {
						return err
					}
					if err := instanceExtPut(x, deref(r.InstanceId), &instanceExt{Generation: 1}); err != nil {
						return err
					}
				}
				return nil
			})
			inTx(t, s, now, instancePurge)
			inTx(t, s, now, func(x *rtx) error {
				var left []string
				err := instances.table.ForEach(x.tx, x.scope, func(id string, _ instanceRecord) error {
					left = append(left, id)
					if _, ok, _ := instanceExts.Get(x.tx, x.scope, id); !ok {
						t.Errorf("%s kept without its ext", id)
					}
					return nil
				})
				if !slices.Equal(left, tt.want) {
					t.Errorf("left %v, want %v", left, tt.want)
				}
				return err
			})
		})
	}
}
