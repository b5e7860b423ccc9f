package route53_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func TestHostedZoneLifecycle(t *testing.T) {
	e := newEnv(t, "")
	out, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("Example.COM"), CallerReference: aws.String("r1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/hostedzone/Z[A-Z0-9]{13,21}$`).MatchString(*out.HostedZone.Id) {
		t.Fatalf("id %s", *out.HostedZone.Id)
	}
	if *out.HostedZone.Name != "example.com." || out.ChangeInfo.Status != types.ChangeStatusPending || len(out.DelegationSet.NameServers) != 4 {
		t.Fatalf("bad zone %+v %+v", out.HostedZone, out.DelegationSet)
	}
	if *out.HostedZone.ResourceRecordSetCount != 2 {
		t.Fatalf("count %d", *out.HostedZone.ResourceRecordSetCount)
	}
	id := *out.HostedZone.Id
	// Same request again: same zone; a different one: HostedZoneAlreadyExists.
	again, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("r1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("hi")}})
	if err != nil || *again.HostedZone.Id != id {
		t.Fatalf("idempotent create: %v", err)
	}
	_, err = e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String("r1")})
	wantCode(t, err, "HostedZoneAlreadyExists")

	g, err := e.r53.GetHostedZone(e.ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil || *g.HostedZone.Config.Comment != "hi" || len(g.DelegationSet.NameServers) != 4 {
		t.Fatalf("get: %v", err)
	}
	_, err = e.r53.GetHostedZone(e.ctx, &route53.GetHostedZoneInput{Id: aws.String("Z0000000000000000000X")})
	wantCode(t, err, "NoSuchHostedZone")

	recs, err := e.r53.ListResourceRecordSets(e.ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
	if err != nil || len(recs.ResourceRecordSets) != 2 || recs.ResourceRecordSets[0].Type != types.RRTypeNs || recs.ResourceRecordSets[1].Type != types.RRTypeSoa {
		t.Fatalf("records: %v %+v", err, recs)
	}
	soa := *recs.ResourceRecordSets[1].ResourceRecords[0].Value
	if !strings.HasSuffix(soa, " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400") || !strings.HasPrefix(soa, g.DelegationSet.NameServers[0]) {
		t.Fatalf("soa %q", soa)
	}

	u, err := e.r53.UpdateHostedZoneComment(e.ctx, &route53.UpdateHostedZoneCommentInput{Id: aws.String(id), Comment: aws.String("new")})
	if err != nil || *u.HostedZone.Config.Comment != "new" {
		t.Fatalf("update comment: %v", err)
	}

	if err := e.change(id, rr(types.ChangeActionCreate, "www.example.com", types.RRTypeA, 60, "1.2.3.4")); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.DeleteHostedZone(e.ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	wantCode(t, err, "HostedZoneNotEmpty")
	if err := e.change(id, rr(types.ChangeActionDelete, "www.example.com", types.RRTypeA, 60, "1.2.3.4")); err != nil {
		t.Fatal(err)
	}
	// The apex NS may be replaced by UPSERT.
	if err := e.change(id, rr(types.ChangeActionUpsert, "example.com", types.RRTypeNs, 300, "ns1.example.net.")); err != nil {
		t.Fatal(err)
	}
	c, err := e.r53.GetHostedZoneCount(e.ctx, &route53.GetHostedZoneCountInput{})
	if err != nil || *c.HostedZoneCount != 1 {
		t.Fatalf("count: %v", err)
	}
	if _, err := e.r53.DeleteHostedZone(e.ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.DeleteHostedZone(e.ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	wantCode(t, err, "NoSuchHostedZone")
}

func TestListHostedZones(t *testing.T) {
	e := newEnv(t, "")
	for _, n := range []string{"b.example.com", "a.example.org", "example.com", "z.example.com"} {
		e.zone(t, n)
	}
	var names []string
	var marker *string
	for {
		out, err := e.r53.ListHostedZones(e.ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range out.HostedZones {
			names = append(names, *z.Name)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.NextMarker
	}
	if len(names) != 4 {
		t.Fatalf("paged %v", names)
	}
	by, err := e.r53.ListHostedZonesByName(e.ctx, &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if *by.HostedZones[0].Name != "example.com." || *by.HostedZones[1].Name != "b.example.com." || !by.IsTruncated || *by.NextDNSName != "z.example.com." {
		t.Fatalf("by name %+v next %v", by.HostedZones, *by.NextDNSName)
	}
	by, err = e.r53.ListHostedZonesByName(e.ctx, &route53.ListHostedZonesByNameInput{DNSName: by.NextDNSName, HostedZoneId: by.NextHostedZoneId})
	if err != nil || len(by.HostedZones) != 2 || *by.HostedZones[1].Name != "a.example.org." {
		t.Fatalf("by name page 2: %v %+v", err, by)
	}
}

func TestPrivateZoneVPCs(t *testing.T) {
	e := newEnv(t, "")
	vpc1 := &types.VPC{VPCId: aws.String("vpc-0123456789abcdef0"), VPCRegion: types.VPCRegionUsEast1}
	vpc2 := &types.VPC{VPCId: aws.String("vpc-0123456789abcdef1"), VPCRegion: types.VPCRegionUsWest2}
	out, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("corp.internal"), CallerReference: aws.String("p"), VPC: vpc1,
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true}})
	if err != nil {
		t.Fatal(err)
	}
	if out.DelegationSet != nil || !out.HostedZone.Config.PrivateZone || *out.VPC.VPCId != *vpc1.VPCId {
		t.Fatalf("private zone %+v", out)
	}
	id := out.HostedZone.Id
	_, err = e.r53.DisassociateVPCFromHostedZone(e.ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: id, VPC: vpc1})
	wantCode(t, err, "LastVPCAssociation")
	if _, err := e.r53.AssociateVPCWithHostedZone(e.ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: id, VPC: vpc2}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.AssociateVPCWithHostedZone(e.ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: id, VPC: vpc2})
	wantCode(t, err, "ConflictingDomainExists")
	g, err := e.r53.GetHostedZone(e.ctx, &route53.GetHostedZoneInput{Id: id})
	if err != nil || len(g.VPCs) != 2 || g.DelegationSet != nil {
		t.Fatalf("get %v %+v", err, g)
	}
	if _, err := e.r53.DisassociateVPCFromHostedZone(e.ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: id, VPC: vpc1}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.DisassociateVPCFromHostedZone(e.ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: id, VPC: vpc1})
	wantCode(t, err, "VPCAssociationNotFound")
	pub := e.zone(t, "public.com")
	_, err = e.r53.AssociateVPCWithHostedZone(e.ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(pub), VPC: vpc1})
	wantCode(t, err, "PublicZoneVPCAssociation")
	_, err = e.r53.AssociateVPCWithHostedZone(e.ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: id, VPC: &types.VPC{VPCId: aws.String("bogus"), VPCRegion: types.VPCRegionUsEast1}})
	wantCode(t, err, "InvalidVPCId")

	snap := e.srv.Route53().Source().Snapshot()
	if len(snap.Zones) != 2 || snap.Zones[0].Name != "corp.internal." || !snap.Zones[0].Private || len(snap.Zones[0].VPCs) != 1 || snap.Zones[0].VPCs[0].Region != "us-west-2" {
		t.Fatalf("snapshot %+v", snap.Zones)
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t, "")
	id := strings.TrimPrefix(e.zone(t, "tags.com"), "/hostedzone/")
	_, err := e.r53.ChangeTagsForResource(e.ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id),
		AddTags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.ChangeTagsForResource(e.ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id), RemoveTagKeys: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.r53.ListTagsForResource(e.ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(id)})
	if err != nil || len(out.ResourceTagSet.Tags) != 1 || *out.ResourceTagSet.Tags[0].Key != "b" {
		t.Fatalf("tags %v %+v", err, out)
	}
	_, err = e.r53.ListTagsForResource(e.ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String("nope")})
	wantCode(t, err, "NoSuchHealthCheck")
	_, err = e.r53.ListTagsForResource(e.ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String("ZNOPE")})
	wantCode(t, err, "NoSuchHostedZone")
}
