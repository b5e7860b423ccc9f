package route53_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dns53"
)

// errCase is a call that must fail with code.
type errCase struct {
	name string
	call func() error
	code string
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}

func TestReusableDelegationSets(t *testing.T) {
	e := newEnv(t, "")
	ds, err := e.r53.CreateReusableDelegationSet(e.ctx, &route53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds1")})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/delegationset/N[A-Z0-9]{13}$`).MatchString(*ds.DelegationSet.Id) || len(ds.DelegationSet.NameServers) != 4 {
		t.Fatalf("set %+v", ds.DelegationSet)
	}
	setID := *ds.DelegationSet.Id
	// Two zones on the set share its name servers.
	var zoneIDs []string
	for _, name := range []string{"a.example", "b.example"} {
		z, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name), DelegationSetId: aws.String(setID)})
		if err != nil {
			t.Fatal(err)
		}
		if *z.DelegationSet.Id != setID || strings.Join(z.DelegationSet.NameServers, ",") != strings.Join(ds.DelegationSet.NameServers, ",") {
			t.Fatalf("zone's set %+v", z.DelegationSet)
		}
		zoneIDs = append(zoneIDs, *z.HostedZone.Id)
	}
	g, err := e.r53.GetHostedZone(e.ctx, &route53.GetHostedZoneInput{Id: aws.String(zoneIDs[0])})
	if err != nil || *g.DelegationSet.Id != setID {
		t.Fatalf("get zone: %v %+v", err, g)
	}
	lim, err := e.r53.GetReusableDelegationSetLimit(e.ctx, &route53.GetReusableDelegationSetLimitInput{DelegationSetId: aws.String(setID), Type: types.ReusableDelegationSetLimitTypeMaxZonesByReusableDelegationSet})
	if err != nil || lim.Count != 2 || aws.ToInt64(lim.Limit.Value) != 100 {
		t.Fatalf("limit %v %+v", err, lim)
	}
	by, err := e.r53.ListHostedZones(e.ctx, &route53.ListHostedZonesInput{DelegationSetId: aws.String(setID)})
	if err != nil || len(by.HostedZones) != 2 {
		t.Fatalf("zones of set: %v %+v", err, by)
	}
	// A set made from a zone takes over its name servers.
	own := e.zone(t, "own.example")
	fromZone, err := e.r53.CreateReusableDelegationSet(e.ctx, &route53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds2"), HostedZoneId: aws.String(own)})
	if err != nil {
		t.Fatal(err)
	}
	og, _ := e.r53.GetHostedZone(e.ctx, &route53.GetHostedZoneInput{Id: aws.String(own)})
	if *og.DelegationSet.Id != *fromZone.DelegationSet.Id || og.DelegationSet.NameServers[0] != fromZone.DelegationSet.NameServers[0] {
		t.Fatalf("zone's own set not reused: %+v vs %+v", og.DelegationSet, fromZone.DelegationSet)
	}
	list, err := e.r53.ListReusableDelegationSets(e.ctx, &route53.ListReusableDelegationSetsInput{MaxItems: aws.Int32(1)})
	if err != nil || len(list.DelegationSets) != 1 || !list.IsTruncated {
		t.Fatalf("list %v %+v", err, list)
	}
	acct, err := e.r53.GetAccountLimit(e.ctx, &route53.GetAccountLimitInput{Type: types.AccountLimitTypeMaxReusableDelegationSetsByOwner})
	if err != nil || acct.Count != 2 || aws.ToInt64(acct.Limit.Value) != 100 {
		t.Fatalf("account limit %v %+v", err, acct)
	}

	errs := []errCase{
		{"same caller reference", func() error {
			_, err := e.r53.CreateReusableDelegationSet(e.ctx, &route53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds1")})
			return err
		}, "DelegationSetAlreadyCreated"},
		{"zone not found", func() error {
			_, err := e.r53.CreateReusableDelegationSet(e.ctx, &route53.CreateReusableDelegationSetInput{CallerReference: aws.String("x"), HostedZoneId: aws.String("ZNOPE")})
			return err
		}, "HostedZoneNotFound"},
		{"zone's set already reusable", func() error {
			_, err := e.r53.CreateReusableDelegationSet(e.ctx, &route53.CreateReusableDelegationSetInput{CallerReference: aws.String("y"), HostedZoneId: aws.String(own)})
			return err
		}, "DelegationSetAlreadyReusable"},
		{"get missing", func() error {
			_, err := e.r53.GetReusableDelegationSet(e.ctx, &route53.GetReusableDelegationSetInput{Id: aws.String("NNOPE")})
			return err
		}, "NoSuchDelegationSet"},
		{"zone on a missing set", func() error {
			_, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("c.example"), CallerReference: aws.String("c"), DelegationSetId: aws.String("NNOPE")})
			return err
		}, "NoSuchDelegationSet"},
		{"same name twice on a set", func() error {
			_, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("a.example"), CallerReference: aws.String("a2"), DelegationSetId: aws.String(setID)})
			return err
		}, "ConflictingDomainExists"},
		{"delete in use", func() error {
			_, err := e.r53.DeleteReusableDelegationSet(e.ctx, &route53.DeleteReusableDelegationSetInput{Id: aws.String(setID)})
			return err
		}, "DelegationSetInUse"},
		{"limit of a missing set", func() error {
			_, err := e.r53.GetReusableDelegationSetLimit(e.ctx, &route53.GetReusableDelegationSetLimitInput{DelegationSetId: aws.String("NNOPE"), Type: types.ReusableDelegationSetLimitTypeMaxZonesByReusableDelegationSet})
			return err
		}, "NoSuchDelegationSet"},
	}
	runErrCases(t, errs)

	for _, id := range zoneIDs {
		if _, err := e.r53.DeleteHostedZone(e.ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.r53.DeleteReusableDelegationSet(e.ctx, &route53.DeleteReusableDelegationSetInput{Id: aws.String(setID)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.GetReusableDelegationSet(e.ctx, &route53.GetReusableDelegationSetInput{Id: aws.String(setID)})
	wantCode(t, err, "NoSuchDelegationSet")
}

func TestPrivateZoneQueries(t *testing.T) {
	e := newEnv(t, "")
	vpc := &types.VPC{VPCId: aws.String("vpc-0123456789abcdef0"), VPCRegion: types.VPCRegionUsEast1}
	other := &types.VPC{VPCId: aws.String("vpc-0123456789abcdef9"), VPCRegion: types.VPCRegionEuWest1}
	z, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("corp.internal"), CallerReference: aws.String("p"), VPC: vpc, HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true}})
	if err != nil {
		t.Fatal(err)
	}
	id := *z.HostedZone.Id
	pub := e.zone(t, "pub.example")

	byVPC, err := e.r53.ListHostedZonesByVPC(e.ctx, &route53.ListHostedZonesByVPCInput{VPCId: vpc.VPCId, VPCRegion: vpc.VPCRegion})
	if err != nil || len(byVPC.HostedZoneSummaries) != 1 || *byVPC.HostedZoneSummaries[0].Name != "corp.internal." || *byVPC.HostedZoneSummaries[0].Owner.OwningAccount == "" {
		t.Fatalf("by vpc %v %+v", err, byVPC)
	}
	none, err := e.r53.ListHostedZonesByVPC(e.ctx, &route53.ListHostedZonesByVPCInput{VPCId: other.VPCId, VPCRegion: other.VPCRegion})
	if err != nil || none.HostedZoneSummaries == nil || len(none.HostedZoneSummaries) != 0 {
		t.Fatalf("other vpc %v %+v", err, none)
	}

	if _, err := e.r53.CreateVPCAssociationAuthorization(e.ctx, &route53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: other}); err != nil {
		t.Fatal(err)
	}
	auths, err := e.r53.ListVPCAssociationAuthorizations(e.ctx, &route53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(id)})
	if err != nil || len(auths.VPCs) != 1 || *auths.VPCs[0].VPCId != *other.VPCId {
		t.Fatalf("authorizations %v %+v", err, auths)
	}
	if _, err := e.r53.DeleteVPCAssociationAuthorization(e.ctx, &route53.DeleteVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: other}); err != nil {
		t.Fatal(err)
	}

	vpcs, err := e.r53.GetHostedZoneLimit(e.ctx, &route53.GetHostedZoneLimitInput{HostedZoneId: aws.String(id), Type: types.HostedZoneLimitTypeMaxVpcsAssociatedByZone})
	if err != nil || vpcs.Count != 1 || aws.ToInt64(vpcs.Limit.Value) != 300 {
		t.Fatalf("vpc limit %v %+v", err, vpcs)
	}
	rrs, err := e.r53.GetHostedZoneLimit(e.ctx, &route53.GetHostedZoneLimitInput{HostedZoneId: aws.String(pub), Type: types.HostedZoneLimitTypeMaxRrsetsByZone})
	if err != nil || rrs.Count != 2 || aws.ToInt64(rrs.Limit.Value) != 10000 {
		t.Fatalf("rrset limit %v %+v", err, rrs)
	}

	errs := []errCase{
		{"by vpc: bad id", func() error {
			_, err := e.r53.ListHostedZonesByVPC(e.ctx, &route53.ListHostedZonesByVPCInput{VPCId: aws.String("nope"), VPCRegion: types.VPCRegionUsEast1})
			return err
		}, "InvalidVPCId"},
		{"by vpc: bad token", func() error {
			_, err := e.r53.ListHostedZonesByVPC(e.ctx, &route53.ListHostedZonesByVPCInput{VPCId: vpc.VPCId, VPCRegion: vpc.VPCRegion, NextToken: aws.String("garbage")})
			return err
		}, "InvalidPaginationToken"},
		{"authorize: missing zone", func() error {
			_, err := e.r53.CreateVPCAssociationAuthorization(e.ctx, &route53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String("ZNOPE"), VPC: other})
			return err
		}, "NoSuchHostedZone"},
		{"authorize: bad vpc", func() error {
			_, err := e.r53.CreateVPCAssociationAuthorization(e.ctx, &route53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: &types.VPC{VPCId: aws.String("x"), VPCRegion: types.VPCRegionUsEast1}})
			return err
		}, "InvalidVPCId"},
		{"deauthorize: not authorized", func() error {
			_, err := e.r53.DeleteVPCAssociationAuthorization(e.ctx, &route53.DeleteVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: other})
			return err
		}, "VPCAssociationAuthorizationNotFound"},
		{"zone limit: public zone's VPCs", func() error {
			_, err := e.r53.GetHostedZoneLimit(e.ctx, &route53.GetHostedZoneLimitInput{HostedZoneId: aws.String(pub), Type: types.HostedZoneLimitTypeMaxVpcsAssociatedByZone})
			return err
		}, "HostedZoneNotPrivate"},
		{"zone limit: missing zone", func() error {
			_, err := e.r53.GetHostedZoneLimit(e.ctx, &route53.GetHostedZoneLimitInput{HostedZoneId: aws.String("ZNOPE"), Type: types.HostedZoneLimitTypeMaxRrsetsByZone})
			return err
		}, "NoSuchHostedZone"},
		{"account limit: bad type", func() error {
			_, err := e.r53.GetAccountLimit(e.ctx, &route53.GetAccountLimitInput{Type: "NOPE"})
			return err
		}, "InvalidInput"},
	}
	runErrCases(t, errs)
}

func TestTagsGeoAndCheckers(t *testing.T) {
	e := newEnv(t, "")
	a, b := e.zone(t, "a.example"), e.zone(t, "b.example")
	ida, idb := strings.TrimPrefix(a, "/hostedzone/"), strings.TrimPrefix(b, "/hostedzone/")
	if _, err := e.r53.ChangeTagsForResource(e.ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(ida),
		AddTags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.r53.ListTagsForResources(e.ctx, &route53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHostedzone, ResourceIds: []string{ida, idb}})
	if err != nil || len(tags.ResourceTagSets) != 2 || len(tags.ResourceTagSets[0].Tags) != 1 || len(tags.ResourceTagSets[1].Tags) != 0 {
		t.Fatalf("tags %v %+v", err, tags)
	}
	_, err = e.r53.ListTagsForResources(e.ctx, &route53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHostedzone, ResourceIds: []string{ida, "ZNOPE"}})
	wantCode(t, err, "NoSuchHostedZone")

	ips, err := e.r53.GetCheckerIpRanges(e.ctx, &route53.GetCheckerIpRangesInput{})
	if err != nil || len(ips.CheckerIpRanges) < 10 {
		t.Fatalf("checker ranges %v %+v", err, ips)
	}

	geo := []struct {
		in   route53.GetGeoLocationInput
		want string // name, or error code
	}{
		{route53.GetGeoLocationInput{ContinentCode: aws.String("EU")}, "Europe"},
		{route53.GetGeoLocationInput{CountryCode: aws.String("*")}, "Default"},
		{route53.GetGeoLocationInput{CountryCode: aws.String("FR")}, "France"},
		{route53.GetGeoLocationInput{CountryCode: aws.String("US"), SubdivisionCode: aws.String("WA")}, "Washington"},
		{route53.GetGeoLocationInput{CountryCode: aws.String("XX")}, "NoSuchGeoLocation"},
		{route53.GetGeoLocationInput{ContinentCode: aws.String("EU"), CountryCode: aws.String("FR")}, "InvalidInput"},
		{route53.GetGeoLocationInput{}, "InvalidInput"},
	}
	for _, tc := range geo {
		out, err := e.r53.GetGeoLocation(e.ctx, &tc.in)
		if tc.want == "NoSuchGeoLocation" || tc.want == "InvalidInput" {
			wantCode(t, err, tc.want)
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc.in, err)
		}
		d := out.GeoLocationDetails
		got := aws.ToString(d.SubdivisionName) + aws.ToString(d.ContinentName)
		if got == "" {
			got = aws.ToString(d.CountryName)
		}
		if got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.in, got, tc.want)
		}
	}
	// Paging visits every location once: continents, "*", countries, states.
	seen, pages := 0, 0
	in := &route53.ListGeoLocationsInput{MaxItems: aws.Int32(100)}
	for {
		out, err := e.r53.ListGeoLocations(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(out.GeoLocationDetailsList)
		pages++
		if !out.IsTruncated {
			break
		}
		in.StartContinentCode, in.StartCountryCode, in.StartSubdivisionCode = out.NextContinentCode, out.NextCountryCode, out.NextSubdivisionCode
	}
	if seen < 7+1+240+50 || pages < 3 {
		t.Fatalf("%d locations in %d pages", seen, pages)
	}
}

func TestDNSSECWithoutKMS(t *testing.T) {
	e := newEnv(t, "")
	pub := e.zone(t, "signed.example")
	priv, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("p.internal"), CallerReference: aws.String("p"),
		VPC: &types.VPC{VPCId: aws.String("vpc-0123456789abcdef0"), VPCRegion: types.VPCRegionUsEast1}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.r53.GetDNSSEC(e.ctx, &route53.GetDNSSECInput{HostedZoneId: aws.String(pub)})
	if err != nil || *st.Status.ServeSignature != "NOT_SIGNING" || st.KeySigningKeys == nil || len(st.KeySigningKeys) != 0 {
		t.Fatalf("dnssec %v %+v", err, st)
	}
	kms := "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
	cases := []errCase{
		{"create ksk: KMS key unusable", func() error {
			_, err := e.r53.CreateKeySigningKey(e.ctx, &route53.CreateKeySigningKeyInput{CallerReference: aws.String("k"), HostedZoneId: aws.String(pub), KeyManagementServiceArn: aws.String(kms), Name: aws.String("ksk1"), Status: aws.String("ACTIVE")})
			return err
		}, "InvalidKMSArn"},
		{"create ksk: bad name", func() error {
			_, err := e.r53.CreateKeySigningKey(e.ctx, &route53.CreateKeySigningKeyInput{CallerReference: aws.String("k"), HostedZoneId: aws.String(pub), KeyManagementServiceArn: aws.String(kms), Name: aws.String("k!"), Status: aws.String("ACTIVE")})
			return err
		}, "InvalidKeySigningKeyName"},
		{"create ksk: bad status", func() error {
			_, err := e.r53.CreateKeySigningKey(e.ctx, &route53.CreateKeySigningKeyInput{CallerReference: aws.String("k"), HostedZoneId: aws.String(pub), KeyManagementServiceArn: aws.String(kms), Name: aws.String("ksk1"), Status: aws.String("ON")})
			return err
		}, "InvalidKeySigningKeyStatus"},
		{"create ksk: missing zone", func() error {
			_, err := e.r53.CreateKeySigningKey(e.ctx, &route53.CreateKeySigningKeyInput{CallerReference: aws.String("k"), HostedZoneId: aws.String("ZNOPE"), KeyManagementServiceArn: aws.String(kms), Name: aws.String("ksk1"), Status: aws.String("ACTIVE")})
			return err
		}, "NoSuchHostedZone"},
		{"enable without an active KSK", func() error {
			_, err := e.r53.EnableHostedZoneDNSSEC(e.ctx, &route53.EnableHostedZoneDNSSECInput{HostedZoneId: aws.String(pub)})
			return err
		}, "KeySigningKeyWithActiveStatusNotFound"},
		{"disable when not signing", func() error {
			_, err := e.r53.DisableHostedZoneDNSSEC(e.ctx, &route53.DisableHostedZoneDNSSECInput{HostedZoneId: aws.String(pub)})
			return err
		}, "DNSSECNotFound"},
		{"private zone", func() error {
			_, err := e.r53.GetDNSSEC(e.ctx, &route53.GetDNSSECInput{HostedZoneId: priv.HostedZone.Id})
			return err
		}, "InvalidArgument"},
		{"activate missing KSK", func() error {
			_, err := e.r53.ActivateKeySigningKey(e.ctx, &route53.ActivateKeySigningKeyInput{HostedZoneId: aws.String(pub), Name: aws.String("ksk1")})
			return err
		}, "NoSuchKeySigningKey"},
		{"deactivate missing KSK", func() error {
			_, err := e.r53.DeactivateKeySigningKey(e.ctx, &route53.DeactivateKeySigningKeyInput{HostedZoneId: aws.String(pub), Name: aws.String("ksk1")})
			return err
		}, "NoSuchKeySigningKey"},
		{"delete missing KSK", func() error {
			_, err := e.r53.DeleteKeySigningKey(e.ctx, &route53.DeleteKeySigningKeyInput{HostedZoneId: aws.String(pub), Name: aws.String("ksk1")})
			return err
		}, "NoSuchKeySigningKey"},
	}
	runErrCases(t, cases)
}

func TestTestDNSAnswer(t *testing.T) {
	e := newEnv(t, "")
	id := e.zone(t, "answer.example")
	if err := e.change(id,
		rr(types.ChangeActionCreate, "www.answer.example", types.RRTypeA, 60, "192.0.2.1", "192.0.2.2"),
		rr(types.ChangeActionCreate, "alias.answer.example", types.RRTypeCname, 60, "www.answer.example")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, typ string
		rcode     string
		data      []string
	}{
		{"www.answer.example", "A", "NOERROR", []string{"192.0.2.1", "192.0.2.2"}},
		{"alias.answer.example", "CNAME", "NOERROR", []string{"www.answer.example."}},
		{"www.answer.example", "AAAA", "NOERROR", []string{}},
		{"nope.answer.example", "A", "NXDOMAIN", []string{}},
		{"elsewhere.example", "A", "REFUSED", []string{}},
	}
	for _, tc := range cases {
		out, err := e.r53.TestDNSAnswer(e.ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(id), RecordName: aws.String(tc.name), RecordType: types.RRType(tc.typ)})
		if err != nil {
			t.Fatalf("%s %s: %v", tc.name, tc.typ, err)
		}
		if *out.ResponseCode != tc.rcode || strings.Join(out.RecordData, ",") != strings.Join(tc.data, ",") || *out.Protocol != "UDP" || !strings.HasPrefix(*out.Nameserver, "ns-") {
			t.Errorf("%s %s: %s %v from %s, want %s %v", tc.name, tc.typ, *out.ResponseCode, out.RecordData, *out.Nameserver, tc.rcode, tc.data)
		}
	}
	_, err := e.r53.TestDNSAnswer(e.ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String("ZNOPE"), RecordName: aws.String("a"), RecordType: types.RRTypeA})
	wantCode(t, err, "NoSuchHostedZone")
	_, err = e.r53.TestDNSAnswer(e.ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(id), RecordName: aws.String("a"), RecordType: types.RRTypeA, ResolverIP: aws.String("not-an-ip")})
	wantCode(t, err, "InvalidInput")
}

func TestQueryLogging(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	logs := cloudwatchlogs.NewFromConfig(e.cfg)
	id := e.zone(t, "logged.example")
	zoneID := strings.TrimPrefix(id, "/hostedzone/")
	if err := e.change(id, rr(types.ChangeActionCreate, "www.logged.example", types.RRTypeA, 60, "192.0.2.7")); err != nil {
		t.Fatal(err)
	}
	group := "/aws/route53/logged.example"
	arn := "arn:aws:logs:us-east-1:000000000000:log-group:" + group + ":*"

	_, err := e.r53.CreateQueryLoggingConfig(e.ctx, &route53.CreateQueryLoggingConfigInput{HostedZoneId: aws.String(id), CloudWatchLogsLogGroupArn: aws.String(arn)})
	wantCode(t, err, "NoSuchCloudWatchLogsLogGroup")
	if _, err := logs.CreateLogGroup(e.ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	created, err := e.r53.CreateQueryLoggingConfig(e.ctx, &route53.CreateQueryLoggingConfigInput{HostedZoneId: aws.String(id), CloudWatchLogsLogGroupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	cfgID := created.QueryLoggingConfig.Id
	got, err := e.r53.GetQueryLoggingConfig(e.ctx, &route53.GetQueryLoggingConfigInput{Id: cfgID})
	if err != nil || *got.QueryLoggingConfig.HostedZoneId != zoneID || *got.QueryLoggingConfig.CloudWatchLogsLogGroupArn != arn {
		t.Fatalf("get %v %+v", err, got)
	}
	list, err := e.r53.ListQueryLoggingConfigs(e.ctx, &route53.ListQueryLoggingConfigsInput{HostedZoneId: aws.String(id)})
	if err != nil || len(list.QueryLoggingConfigs) != 1 {
		t.Fatalf("list %v %+v", err, list)
	}

	errs := []struct {
		name string
		in   route53.CreateQueryLoggingConfigInput
		code string
	}{
		{"second config", route53.CreateQueryLoggingConfigInput{HostedZoneId: aws.String(id), CloudWatchLogsLogGroupArn: aws.String(arn)}, "QueryLoggingConfigAlreadyExists"},
		{"bad arn", route53.CreateQueryLoggingConfigInput{HostedZoneId: aws.String(id), CloudWatchLogsLogGroupArn: aws.String("arn:nope")}, "InvalidInput"},
		{"not us-east-1", route53.CreateQueryLoggingConfigInput{HostedZoneId: aws.String(id), CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:eu-west-1:000000000000:log-group:" + group)}, "InvalidInput"},
		{"missing zone", route53.CreateQueryLoggingConfigInput{HostedZoneId: aws.String("ZNOPE"), CloudWatchLogsLogGroupArn: aws.String(arn)}, "NoSuchHostedZone"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.r53.CreateQueryLoggingConfig(e.ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}

	// After a restart, the DNS server's answers from the zone are logged
	// in AWS's format.
	if err := e.srv.Close(e.ctx); err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, dir)
	logs = cloudwatchlogs.NewFromConfig(e.cfg)
	svc := e.srv.Route53()
	srv := dns53.New(dns53.Config{Source: svc.Source(), OnQuery: svc.LogQuery})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	for _, name := range []string{"www.logged.example.", "missing.logged.example."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		if _, err := dns.Exchange(m, srv.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	svc.FlushQueryLogs(e.ctx)
	stream := zoneID + "/MC1"
	ev, err := logs.GetLogEvents(e.ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^1\.0 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + zoneID + ` (\S+) A (NOERROR|NXDOMAIN) UDP MC1 127\.0\.0\.1 -$`)
	if len(ev.Events) != 2 || !line.MatchString(*ev.Events[0].Message) || !strings.Contains(*ev.Events[1].Message, "missing.logged.example A NXDOMAIN") {
		for _, x := range ev.Events {
			t.Log(*x.Message)
		}
		t.Fatalf("%d query log events", len(ev.Events))
	}

	if _, err := e.r53.DeleteQueryLoggingConfig(e.ctx, &route53.DeleteQueryLoggingConfigInput{Id: cfgID}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r53.GetQueryLoggingConfig(e.ctx, &route53.GetQueryLoggingConfigInput{Id: cfgID})
	wantCode(t, err, "NoSuchQueryLoggingConfig")
	_, err = e.r53.DeleteQueryLoggingConfig(e.ctx, &route53.DeleteQueryLoggingConfigInput{Id: cfgID})
	wantCode(t, err, "NoSuchQueryLoggingConfig")
	// Without a config, queries are no longer logged.
	m := new(dns.Msg)
	m.SetQuestion("www.logged.example.", dns.TypeA)
	if _, err := dns.Exchange(m, srv.Addr()); err != nil {
		t.Fatal(err)
	}
	svc.FlushQueryLogs(e.ctx)
	after, err := logs.GetLogEvents(e.ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil || len(after.Events) != 2 {
		t.Fatalf("after delete: %v, %d events", err, len(after.Events))
	}
}
