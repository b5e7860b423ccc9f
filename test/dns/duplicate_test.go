package dns_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"
)

// client is a Route 53 client of the account whose 12-digit ID is its
// access key.
func (e *env) client(account string) *route53.Client {
	return route53.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(account, "secret", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr()), RetryMaxAttempts: 1})
}

type delegationOut struct {
	Name, Answering string
	Chosen          bool
	Shadowed        []string
}

func (e *env) delegation(t *testing.T, method, query string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+e.srv.Addr()+"/_minicloud/route53/delegation"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestDuplicatePublicZones: public zones with the same name, in two
// accounts and twice in one, never take a name over silently. The first
// zone created answers (a later, empty one does not blank it out, and a
// later one with records does not hijack it) until the registrar is
// pointed at another (POST /_minicloud/route53/delegation?zone=ID), and
// when the delegated zone is deleted the oldest remaining one answers.
func TestDuplicatePublicZones(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.client("111111111111"), e.client("222222222222")
	create := func(c *route53.Client, ref, ip string) string {
		t.Helper()
		out, err := c.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("dup.example"), CallerReference: aws.String(ref)})
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(*out.HostedZone.Id, "/hostedzone/")
		if ip != "" {
			if _, err := c.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id),
				ChangeBatch: &types.ChangeBatch{Changes: []types.Change{rrset("www.dup.example", ip, nil)}}}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	answer := func(want string) {
		t.Helper()
		r := e.query(t, "www.dup.example", dns.TypeA)
		if got := strings.Join(aValues(r), ","); got != want || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("www.dup.example A = %q (%s), want %q", got, dns.RcodeToString[r.Rcode], want)
		}
	}

	first := create(alice, "a1", "198.18.0.10")
	answer("198.18.0.10")
	empty := create(bob, "b1", "")
	answer("198.18.0.10") // a later, empty zone does not blank the name out
	hijack := create(bob, "b2", "198.18.0.20")
	answer("198.18.0.10") // nor does a later one with records take it over
	again := create(alice, "a2", "198.18.0.30")
	answer("198.18.0.10") // the same account's second zone neither

	status, body := e.delegation(t, http.MethodGet, "")
	var list []delegationOut
	if err := json.Unmarshal(body, &list); err != nil || status != 200 || len(list) != 1 {
		t.Fatalf("GET delegation: %d %s", status, body)
	}
	shadowed := slices.Sorted(slices.Values([]string{empty, hijack, again}))
	if d := list[0]; d.Name != "dup.example." || d.Answering != first || d.Chosen || !slices.Equal(slices.Sorted(slices.Values(d.Shadowed)), shadowed) {
		t.Fatalf("GET delegation = %+v, want %s answering, %v shadowed", d, first, shadowed)
	}

	if status, body := e.delegation(t, http.MethodPost, "?zone=/hostedzone/"+hijack); status != 200 || !strings.Contains(string(body), `"answering": "`+hijack+`"`) {
		t.Fatalf("POST delegation: %d %s", status, body)
	}
	answer("198.18.0.20")
	if status, _ := e.delegation(t, http.MethodPost, "?zone=ZNOSUCHZONE"); status != http.StatusNotFound {
		t.Fatalf("POST delegation to a missing zone: %d, want 404", status)
	}

	// The delegated zone goes: the oldest remaining one answers again.
	if _, err := bob.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(hijack),
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionDelete, ResourceRecordSet: rrset("www.dup.example", "198.18.0.20", nil).ResourceRecordSet}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.DeleteHostedZone(e.ctx, &route53.DeleteHostedZoneInput{Id: aws.String(hijack)}); err != nil {
		t.Fatal(err)
	}
	answer("198.18.0.10")
	// The apex's NS are those of the zone that answers.
	r := e.query(t, "dup.example", dns.TypeNS)
	got, err := alice.GetHostedZone(e.ctx, &route53.GetHostedZoneInput{Id: aws.String(first)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) == 0 || r.Answer[0].(*dns.NS).Ns != got.DelegationSet.NameServers[0] {
		t.Fatalf("dup.example NS = %v, want %s's name servers %v", r.Answer, first, got.DelegationSet.NameServers)
	}
}
