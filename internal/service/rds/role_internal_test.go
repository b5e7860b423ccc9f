package rds

import (
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A read replica's endpoint name is like every instance's: the account's
// and region's hash, so that the name resolves (dnszone serves them).
func TestReplicaEndpointName(t *testing.T) {
	t.Parallel()
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	src := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), Engine: ptr("postgres"), Endpoint: &rdsapi.Endpoint{Address: ptr(endpointAddress(sc, "src")), Port: ptr(int32(5432))}}, Replica: &records.ReplicaState{}}
	r := newReplicaRecord(sc, "rep", &src, &rdsapi.CreateDBInstanceReadReplicaMessage{DBInstanceIdentifier: ptr("rep")})
	if got, want := deref(r.Endpoint.Address), endpointAddress(sc, "rep"); got != want {
		t.Fatalf("replica endpoint %q, want %q", got, want)
	}
}

// The storage size error names the instance's own engine.
func TestStorageErrorEngine(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"postgres", "mariadb"} {
		r := &records.Instance{DBInstance: rdsapi.DBInstance{Engine: ptr(engine), StorageType: ptr("gp2"), AllocatedStorage: ptr(int32(20))}}
		err := checkStorageChange(r, 70000)
		if err == nil || !strings.Contains(err.Error(), "engine name "+engine+" and storage type gp2") {
			t.Errorf("%s: %v", engine, err)
		}
	}
}
