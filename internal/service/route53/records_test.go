package route53_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func TestChangeResourceRecordSetsErrors(t *testing.T) {
	e := newEnv(t, "")
	z := e.zone(t, "example.com")
	if err := e.change(z, rr(types.ChangeActionCreate, "x.example.com", types.RRTypeA, 60, "1.2.3.4")); err != nil {
		t.Fatal(err)
	}
	cname := rr(types.ChangeActionCreate, "x.example.com", types.RRTypeCname, 60, "y.example.com")
	tests := []struct {
		name    string
		changes []types.Change
		code    string
		msg     string
	}{
		{"create exists", []types.Change{rr(types.ChangeActionCreate, "x.example.com", types.RRTypeA, 60, "1.2.3.4")}, "InvalidChangeBatch",
			"[Tried to create resource record set [name='x.example.com.', type='A'] but it already exists]"},
		{"delete missing", []types.Change{rr(types.ChangeActionDelete, "y.example.com", types.RRTypeA, 60, "1.2.3.4")}, "InvalidChangeBatch",
			"[Tried to delete resource record set [name='y.example.com.', type='A'] but it was not found]"},
		{"delete mismatch", []types.Change{rr(types.ChangeActionDelete, "x.example.com", types.RRTypeA, 60, "9.9.9.9")}, "InvalidChangeBatch",
			"[Tried to delete resource record set [name='x.example.com.', type='A'] but the values provided do not match the current values]"},
		{"outside zone", []types.Change{rr(types.ChangeActionCreate, "x.example.org", types.RRTypeA, 60, "1.2.3.4")}, "InvalidChangeBatch",
			"[RRSet with DNS name x.example.org. is not permitted in zone example.com.]"},
		{"cname conflict", []types.Change{cname}, "InvalidChangeBatch",
			"[RRSet of type CNAME with DNS name x.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]"},
		{"cname apex", []types.Change{rr(types.ChangeActionCreate, "example.com", types.RRTypeCname, 60, "y.example.com")}, "InvalidChangeBatch",
			"[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]"},
		{"bad ipv4", []types.Change{rr(types.ChangeActionCreate, "v.example.com", types.RRTypeA, 60, "::1")}, "InvalidChangeBatch",
			"[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '::1'']"},
		{"bad ipv6", []types.Change{rr(types.ChangeActionCreate, "v.example.com", types.RRTypeAaaa, 60, "1.2.3.4")}, "InvalidChangeBatch", ""},
		{"two cname values", []types.Change{rr(types.ChangeActionCreate, "c.example.com", types.RRTypeCname, 60, "a.", "b.")}, "InvalidChangeBatch", ""},
		{"delete apex soa", nil, "InvalidChangeBatch", ""},
		{"no ttl", []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("t.example.com"), Type: types.RRTypeA,
			ResourceRecords: []types.ResourceRecord{{Value: aws.String("1.1.1.1")}}}}}, "InvalidInput", ""},
		{"weight without set id", []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("w.example.com"), Type: types.RRTypeA,
			TTL: aws.Int64(1), Weight: aws.Int64(1), ResourceRecords: []types.ResourceRecord{{Value: aws.String("1.1.1.1")}}}}}, "InvalidInput", ""},
		{"alias missing target", []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("al.example.com"), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(z[len("/hostedzone/"):]), DNSName: aws.String("nope.example.com")}}}}, "InvalidChangeBatch", ""},
		{"no such health check", []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("h.example.com"), Type: types.RRTypeA,
			TTL: aws.Int64(1), HealthCheckId: aws.String("00000000-0000-4000-8000-000000000000"), ResourceRecords: []types.ResourceRecord{{Value: aws.String("1.1.1.1")}}}}}, "NoSuchHealthCheck", ""},
		{"no such zone", []types.Change{rr(types.ChangeActionCreate, "x.example.com", types.RRTypeA, 60, "1.2.3.4")}, "NoSuchHostedZone", ""},
	}
	recs, _ := e.r53.ListResourceRecordSets(e.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone := z
			if tt.name == "no such zone" {
				zone = "ZNOSUCHZONE12345"
			}
			changes := tt.changes
			if changes == nil {
				for _, r := range recs.ResourceRecordSets {
					if r.Type == types.RRTypeSoa {
						changes = []types.Change{{Action: types.ChangeActionDelete, ResourceRecordSet: &r}}
					}
				}
			}
			err := e.change(zone, changes...)
			if tt.msg != "" {
				wantMessage(t, err, tt.code, tt.msg)
			} else {
				wantCode(t, err, tt.code)
			}
		})
	}
}

func TestChangeBatchAtomic(t *testing.T) {
	e := newEnv(t, "")
	z := e.zone(t, "example.com")
	err := e.change(z,
		rr(types.ChangeActionCreate, "a.example.com", types.RRTypeA, 60, "1.1.1.1"),
		rr(types.ChangeActionCreate, "b.example.com", types.RRTypeA, 60, "not-an-ip"))
	wantCode(t, err, "InvalidChangeBatch")
	out, err := e.r53.ListResourceRecordSets(e.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z)})
	if err != nil || len(out.ResourceRecordSets) != 2 {
		t.Fatalf("batch partially applied: %v %d", err, len(out.ResourceRecordSets))
	}
	// Within one batch, a DELETE then CREATE of the same set is fine.
	if err := e.change(z, rr(types.ChangeActionCreate, "a.example.com", types.RRTypeA, 60, "1.1.1.1")); err != nil {
		t.Fatal(err)
	}
	resp, err := e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
		rr(types.ChangeActionDelete, "a.example.com", types.RRTypeA, 60, "1.1.1.1"),
		rr(types.ChangeActionCreate, "a.example.com", types.RRTypeA, 300, "2.2.2.2"),
	}}})
	if err != nil || resp.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatal(err)
	}
	ch, err := e.r53.GetChange(e.ctx, &route53.GetChangeInput{Id: resp.ChangeInfo.Id})
	if err != nil || ch.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("get change: %v", err)
	}
	_, err = e.r53.GetChange(e.ctx, &route53.GetChangeInput{Id: aws.String("CNOSUCHCHANGE1")})
	wantCode(t, err, "NoSuchChange")
	snap := e.srv.Route53().Source().Snapshot()
	if len(snap.Zones) != 1 || len(snap.Zones[0].Records) != 3 {
		t.Fatalf("snapshot %+v", snap)
	}
	a := snap.Zones[0].Records[2]
	if a.Name != "a.example.com." || a.Type != "A" || a.TTL != 300 || a.Values[0] != "2.2.2.2" {
		t.Fatalf("snapshot record %+v", a)
	}
}

func TestListResourceRecordSetsOrderAndPaging(t *testing.T) {
	e := newEnv(t, "")
	z := e.zone(t, "example.com")
	var changes []types.Change
	for _, n := range []string{"b.example.com", "a.b.example.com", "*.example.com", "z.example.com", "a.example.com"} {
		changes = append(changes, rr(types.ChangeActionCreate, n, types.RRTypeA, 60, "10.0.0.1"), rr(types.ChangeActionCreate, n, types.RRTypeTxt, 60, `"t"`))
	}
	for i := 0; i < 3; i++ {
		changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("w.example.com"), Type: types.RRTypeA,
			SetIdentifier: aws.String(strconv.Itoa(i)), Weight: aws.Int64(int64(i)), TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.2")}}}})
	}
	if err := e.change(z, changes...); err != nil {
		t.Fatal(err)
	}
	var got []string
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z), MaxItems: aws.Int32(4)}
	for {
		out, err := e.r53.ListResourceRecordSets(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.ResourceRecordSets {
			got = append(got, fmt.Sprintf("%s %s %s", *r.Name, r.Type, aws.ToString(r.SetIdentifier)))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	want := []string{
		"example.com. NS ", "example.com. SOA ",
		`\052.example.com. A `, `\052.example.com. TXT `,
		"a.example.com. A ", "a.example.com. TXT ",
		"b.example.com. A ", "b.example.com. TXT ",
		"a.b.example.com. A ", "a.b.example.com. TXT ",
		"w.example.com. A 0", "w.example.com. A 1", "w.example.com. A 2",
		"z.example.com. A ", "z.example.com. TXT ",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
	snap := e.srv.Route53().Source().Snapshot()
	if r := snap.Zones[0].Records[2]; r.Name != "*.example.com." {
		t.Fatalf("snapshot wildcard %+v", r)
	}
}

func TestHealthChecks(t *testing.T) {
	e := newEnv(t, "")
	e.srv.Route53().SetCheckInterval(100 * time.Millisecond)
	var failing atomic.Bool
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "all good")
	}))
	defer hs.Close()
	u, _ := url.Parse(hs.URL)
	port, _ := strconv.Atoi(u.Port())
	cfg := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttpStrMatch, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(int32(port)),
		ResourcePath: aws.String("/health"), SearchString: aws.String("good"), FailureThreshold: aws.Int32(2), RequestInterval: aws.Int32(10)}
	out, err := e.r53.CreateHealthCheck(e.ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.HealthCheck.Id
	again, err := e.r53.CreateHealthCheck(e.ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: cfg})
	if err != nil || *again.HealthCheck.Id != id {
		t.Fatalf("idempotent: %v", err)
	}
	_, err = e.r53.CreateHealthCheck(e.ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(1)}})
	wantCode(t, err, "HealthCheckAlreadyExists")
	_, err = e.r53.CreateHealthCheck(e.ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("bad"), HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("127.0.0.1"), RequestInterval: aws.Int32(20)}})
	wantCode(t, err, "InvalidInput")

	src := e.srv.Route53().Source()
	waitFor := func(healthy bool, prefix string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			st, err := e.r53.GetHealthCheckStatus(e.ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if src.Healthy(id) == healthy && len(st.HealthCheckObservations) == 1 && len(*st.HealthCheckObservations[0].StatusReport.Status) >= len(prefix) && (*st.HealthCheckObservations[0].StatusReport.Status)[:len(prefix)] == prefix {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("health check never became healthy=%v with status %q", healthy, prefix)
	}
	waitFor(true, "Success: HTTP Status Code 200, OK")
	failing.Store(true)
	waitFor(false, "Failure: HTTP Status Code 500, Internal Server Error")
	failing.Store(false)
	waitFor(true, "Success")

	// A record set using the check keeps it from being deleted.
	z := e.zone(t, "hc.example.com")
	set := &types.ResourceRecordSet{Name: aws.String("a.hc.example.com"), Type: types.RRTypeA, TTL: aws.Int64(60), SetIdentifier: aws.String("p"),
		Failover: types.ResourceRecordSetFailoverPrimary, HealthCheckId: aws.String(id), ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.1")}}}
	if err := e.change(z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.DeleteHealthCheck(e.ctx, &route53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)})
	wantCode(t, err, "HealthCheckInUse")
	if e.srv.Route53().Source().Snapshot().Zones[0].Records[2].HealthCheckID != id {
		t.Fatal("snapshot lacks health check id")
	}
	if err := e.change(z, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: set}); err != nil {
		t.Fatal(err)
	}

	up, err := e.r53.UpdateHealthCheck(e.ctx, &route53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(1), FailureThreshold: aws.Int32(5)})
	if err != nil || *up.HealthCheck.HealthCheckVersion != 2 || *up.HealthCheck.HealthCheckConfig.FailureThreshold != 5 {
		t.Fatalf("update: %v", err)
	}
	_, err = e.r53.UpdateHealthCheck(e.ctx, &route53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(1)})
	wantCode(t, err, "HealthCheckVersionMismatch")
	list, err := e.r53.ListHealthChecks(e.ctx, &route53.ListHealthChecksInput{})
	if err != nil || len(list.HealthChecks) != 1 {
		t.Fatalf("list: %v", err)
	}
	n, err := e.r53.GetHealthCheckCount(e.ctx, &route53.GetHealthCheckCountInput{})
	if err != nil || *n.HealthCheckCount != 1 {
		t.Fatalf("count: %v", err)
	}
	if _, err := e.r53.GetHealthCheck(e.ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r53.DeleteHealthCheck(e.ctx, &route53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.GetHealthCheck(e.ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
	wantCode(t, err, "NoSuchHealthCheck")
	if !src.Healthy(id) {
		t.Fatal("deleted health checks are healthy")
	}
}

func TestHealthCheckRefusesOutsideTargets(t *testing.T) {
	e := newEnv(t, "")
	e.srv.Route53().SetCheckInterval(100 * time.Millisecond)
	out, err := e.r53.CreateHealthCheck(e.ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("x"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("192.0.2.10"), Port: aws.Int32(80), FailureThreshold: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st, err := e.r53.GetHealthCheckStatus(e.ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: out.HealthCheck.Id})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.HealthCheckObservations) == 1 && !e.srv.Route53().Source().Healthy(*out.HealthCheck.Id) {
			if s := *st.HealthCheckObservations[0].StatusReport.Status; s[:len("Failure: Refused")] != "Failure: Refused" {
				t.Fatalf("status %q", s)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("outside target not refused")
}

func TestDurability(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	z := e.zone(t, "durable.com")
	if err := e.change(z, rr(types.ChangeActionCreate, "a.durable.com", types.RRTypeA, 60, "10.1.1.1")); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Close(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, dir)
	snap := e2.srv.Route53().Source().Snapshot()
	if len(snap.Zones) != 1 || len(snap.Zones[0].Records) != 3 {
		t.Fatalf("snapshot after restart %+v", snap)
	}
	out, err := e2.r53.ListResourceRecordSets(e2.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z)})
	if err != nil || len(out.ResourceRecordSets) != 3 {
		t.Fatalf("records after restart: %v", err)
	}
}
