package route53

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

type rrset = route53api.ResourceRecordSet

var recordTypes = map[string]bool{"SOA": true, "A": true, "TXT": true, "NS": true, "CNAME": true, "MX": true, "NAPTR": true, "PTR": true, "SRV": true, "SPF": true, "AAAA": true, "CAA": true, "DS": true, "TLSA": true, "SSHFP": true, "SVCB": true, "HTTPS": true}

// serviceAliasZones are the documented hosted zone IDs of AWS alias targets
// outside the account's zones (CloudFront, Global Accelerator, and the ELB,
// NLB, S3 website and API Gateway zones of the main regions).
var serviceAliasZones = map[string]bool{
	"Z2FDTNDATAQYW2": true, // CloudFront
	"Z2BJ6XQ5FK7U4H": true, // Global Accelerator
	// ELB (Classic/ALB) per region
	"Z35SXDOTRQ7X7K": true, "Z3AADJGX6KTTL2": true, "Z368ELLRRE2KJ0": true, "Z1H1FL5HABSF5": true,
	"Z32O12XQLNTSW2": true, "Z1BKCTXD74EZPE": true, "Z215JYRZR1TBD5": true, "Z3GKZC51ZF0DB4": true,
	"Z14GRHDCWA56QT": true, "Z1LMS91P8CMLE5": true, "Z1GU1H9U5BVJQ8": true, "ZP97RAFLXTNZK": true,
	"Z2P70J7HTTTPLU": true, "Z1YSHQZHG15GKL": true, "Z3DZXE0Q79N41H": true,
	// NLB per region
	"Z26RNL4JYFTOTI": true, "ZLMOA37VPKANP": true, "Z24FKFUX50B4VW": true, "Z18D5FSROUN65G": true,
	"Z2IFOLAFXWLO4F": true, "ZD4D7Y8KGAS4G": true, "Z3F0SRJ5LGBH90": true, "Z2ITCQZ0G0TF9E": true,
	// S3 website endpoints per region
	"Z3AQBSTGFYJSTF": true, "Z2O1EMRO9K5GLX": true, "Z2F56UZL2M1ACD": true, "Z1BKCTXD74EZPE2": true,
	"Z3BJ6K6RIION7M": true, "Z21DNDUVLTQW6Q": true, "Z1WCIGYICN2BYD": true, "Z2M4EHUR26P7ZW": true,
	"Z3O0J2DXBE1FTB": true, "Z3GKZC51ZF0DB4S3": true,
	// API Gateway regional endpoints
	"Z1UJRXOUMOOFQ8": true, "ZOJJZC49E0EPZ": true, "Z2OJLYMUO9EFXC": true, "Z1U9ULNL0V5AJ3": true,
}

type identity struct{ name, typ, set string }

func idOf(r *rrset) identity {
	return identity{deref(r.Name), deref(r.Type), deref(r.SetIdentifier)}
}

func describe(r *rrset) string {
	if r.SetIdentifier != nil {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", escapeName(deref(r.Name)), deref(r.Type), deref(r.SetIdentifier))
	}
	return fmt.Sprintf("[name='%s', type='%s']", escapeName(deref(r.Name)), deref(r.Type))
}

// policy names the routing policy of a record set ("" simple).
func policy(r *rrset) string {
	switch {
	case r.Weight != nil:
		return "weighted"
	case r.Failover != nil:
		return "failover"
	case r.Region != nil:
		return "latency"
	case r.GeoLocation != nil:
		return "geolocation"
	case r.MultiValueAnswer != nil:
		return "multivalue"
	case r.CidrRoutingConfig != nil:
		return "cidr"
	case r.GeoProximityLocation != nil:
		return "geoproximity"
	}
	return ""
}

func changeDesc(action string, r *rrset) string {
	set := "null"
	if r.SetIdentifier != nil {
		set = *r.SetIdentifier
	}
	return fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, deref(r.Name), deref(r.Type), set)
}

// checkShape validates one record set on its own; it returns InvalidInput
// errors (which AWS reports before looking at the zone) and batch messages.
func checkShape(action string, r *rrset, zoneName string) (error, []string) {
	name, typ := deref(r.Name), deref(r.Type)
	if !recordTypes[typ] {
		return errInvalidInput("1 validation error detected: Value '%s' at 'changeBatch.changes.member.resourceRecordSet.type' failed to satisfy constraint: Member must satisfy enum value set", typ), nil
	}
	hasRecords := r.TTL != nil || len(r.ResourceRecords) > 0
	if r.AliasTarget != nil && hasRecords {
		return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", changeDesc(action, r)), nil
	}
	if r.AliasTarget == nil && (r.TTL == nil || len(r.ResourceRecords) == 0) {
		if r.TTL == nil && len(r.ResourceRecords) == 0 {
			return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", changeDesc(action, r)), nil
		}
		if r.TTL == nil {
			return errInvalidInput("Invalid request: Missing field 'TTL' in %s", changeDesc(action, r)), nil
		}
		return errInvalidInput("Invalid request: Missing field 'ResourceRecords' in %s", changeDesc(action, r)), nil
	}
	if r.TTL != nil && (*r.TTL < 0 || *r.TTL > 2147483647) {
		return errInvalidInput("1 validation error detected: Value '%d' at 'changeBatch.changes.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and 2147483647", *r.TTL), nil
	}
	p := policy(r)
	if p != "" && r.SetIdentifier == nil {
		return errInvalidInput("Invalid request: Missing field 'SetIdentifier' in %s", changeDesc(action, r)), nil
	}
	if p == "" && r.SetIdentifier != nil {
		return errInvalidInput("Invalid request: Missing field 'Weight', 'Region', 'Failover', 'GeoLocation', 'MultiValueAnswer', 'GeoProximityLocation', or 'CidrRoutingConfig' in %s", changeDesc(action, r)), nil
	}
	if r.Weight != nil && (*r.Weight < 0 || *r.Weight > 255) {
		return errInvalidInput("1 validation error detected: Value '%d' at 'changeBatch.changes.member.resourceRecordSet.weight' failed to satisfy constraint: Member must have value between 0 and 255", *r.Weight), nil
	}
	if r.Failover != nil && *r.Failover != "PRIMARY" && *r.Failover != "SECONDARY" {
		return errInvalidInput("1 validation error detected: Value '%s' at 'changeBatch.changes.member.resourceRecordSet.failover' failed to satisfy constraint: Member must satisfy enum value set: [SECONDARY, PRIMARY]", *r.Failover), nil
	}
	if r.MultiValueAnswer != nil && r.AliasTarget != nil {
		return errInvalidInput("Invalid request: Alias records are not supported for the multivalue answer routing policy in %s", changeDesc(action, r)), nil
	}
	var msgs []string
	if name != zoneName && !strings.HasSuffix(name, "."+zoneName) {
		return nil, []string{fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", escapeName(name), escapeName(zoneName))}
	}
	if typ == "CNAME" && name == zoneName {
		msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", escapeName(name), escapeName(zoneName)))
	}
	if typ == "SOA" && name != zoneName {
		msgs = append(msgs, fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted because SOA records are only allowed at the zone apex", escapeName(name)))
	}
	if len(r.ResourceRecords) > 1 && (typ == "CNAME" || typ == "SOA") {
		msgs = append(msgs, fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted to contain more than one resource record", typ, escapeName(name)))
	}
	seen := map[string]bool{}
	for _, rr := range r.ResourceRecords {
		v := deref(rr.Value)
		if seen[v] {
			msgs = append(msgs, fmt.Sprintf("Duplicate Resource Record: '%s'", v))
		}
		seen[v] = true
		if m := checkValue(typ, v); m != "" {
			msgs = append(msgs, fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s''", m, v))
		}
	}
	return nil, msgs
}

// checkValue validates one value of a record type, returning AWS's problem
// text or "".
func checkValue(typ, v string) string {
	switch typ {
	case "A":
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() {
			return "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"
		}
	case "AAAA":
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is6() || a.Is4In6() {
			return "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"
		}
	case "TXT", "SPF":
		if !strings.HasPrefix(v, `"`) || !strings.HasSuffix(v, `"`) || len(v) < 2 {
			return "InvalidCharacterString (Value should be enclosed in quotation marks)"
		}
	case "MX":
		f := strings.Fields(v)
		if len(f) != 2 || !isUint(f[0]) {
			return "MXRRDATANotTwoFields (Value does not contain two fields)"
		}
	case "SRV":
		f := strings.Fields(v)
		if len(f) != 4 || !isUint(f[0]) || !isUint(f[1]) || !isUint(f[2]) {
			return "SRVRRDATANotFourFields (Value does not contain four fields)"
		}
	case "CNAME", "NS", "PTR":
		if v == "" || strings.ContainsAny(v, " \t") {
			return "DomainLabelEmpty (Domain label is empty)"
		}
	}
	return ""
}

func isUint(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// sameSet reports whether two record sets are identical (DELETE's match).
func sameSet(a, b *rrset) bool {
	return state.HashParams(canon(a)) == state.HashParams(canon(b))
}

func canon(r *rrset) rrset {
	c := *r
	vals := make([]string, 0, len(r.ResourceRecords))
	for _, rr := range r.ResourceRecords {
		vals = append(vals, deref(rr.Value))
	}
	sort.Strings(vals)
	c.ResourceRecords = nil
	for _, v := range vals {
		c.ResourceRecords = append(c.ResourceRecords, route53api.ResourceRecord{Value: new(v)})
	}
	if c.AliasTarget != nil {
		at := *c.AliasTarget
		at.DNSName = new(normalizeName(deref(at.DNSName)))
		c.AliasTarget = &at
	}
	return c
}

// ChangeResourceRecordSets applies a batch atomically: every change is
// checked against the zone as the earlier changes left it, and any error
// leaves the zone untouched.
func (s *Service) ChangeResourceRecordSets(ctx context.Context, in *route53api.ChangeResourceRecordSetsRequest) (*route53api.ChangeResourceRecordSetsResponse, error) {
	if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 {
		return nil, errInvalidInput("1 validation error detected: Value null at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.ChangeBatch.Changes) > 1000 {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidChangeBatch", "Number of records limit of 1000 exceeded.")
	}
	var (
		info  *route53api.ChangeInfo
		z     *zoneRecord
		sc    state.Scope
		names map[string][]*dnszone.RecordSet
	)
	err := s.change(ctx, func(tx state.Tx, scope state.Scope) error {
		var err error
		sc = scope
		if z, err = getZone(tx, sc, deref(in.HostedZoneId)); err != nil {
			return err
		}
		b := newBatch(tx, sc, z)
		var msgs []string
		for i := range in.ChangeBatch.Changes {
			ch := in.ChangeBatch.Changes[i]
			action := deref(ch.Action)
			if ch.ResourceRecordSet == nil {
				return errInvalidInput("Invalid request: Missing field 'ResourceRecordSet'")
			}
			r := *ch.ResourceRecordSet
			r.Name = new(normalizeName(deref(r.Name)))
			if r.AliasTarget != nil {
				at := *r.AliasTarget
				at.DNSName = new(normalizeName(deref(at.DNSName)))
				at.HostedZoneId = new(strings.TrimPrefix(deref(at.HostedZoneId), "/hostedzone/"))
				if at.EvaluateTargetHealth == nil {
					at.EvaluateTargetHealth = new(false)
				}
				r.AliasTarget = &at
			}
			if r.HealthCheckId != nil {
				if _, err := getHealthCheck(tx, sc, *r.HealthCheckId); err != nil {
					return err
				}
			}
			switch action {
			case "CREATE", "DELETE", "UPSERT":
			default:
				return errInvalidInput("1 validation error detected: Value '%s' at 'changeBatch.changes.%d.member.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, UPSERT, DELETE]", action, i+1)
			}
			if action != "DELETE" {
				inErr, m := checkShape(action, &r, z.Name)
				if inErr != nil {
					return inErr
				}
				if len(m) > 0 {
					msgs = append(msgs, m...)
					continue
				}
			}
			id := idOf(&r)
			ns, err := b.of(id.name)
			if err != nil {
				return err
			}
			idx := slices.IndexFunc(ns.sets, func(o rrset) bool { return idOf(&o) == id })
			apex := id.name == z.Name && (id.typ == "SOA" || id.typ == "NS")
			switch action {
			case "DELETE":
				if idx < 0 {
					msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", describe(&r)))
					continue
				}
				if !sameSet(&ns.sets[idx], &r) {
					msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", describe(&r)))
					continue
				}
				if apex {
					if id.typ == "SOA" {
						msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
					} else {
						msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
					}
					continue
				}
				m, err := inUseAsAlias(b, ns, &r)
				if err != nil {
					return err
				}
				if m != "" {
					msgs = append(msgs, m)
					continue
				}
				b.remove(ns, idx)
				continue
			case "CREATE":
				if idx >= 0 {
					msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", describe(&r)))
					continue
				}
			}
			m, err := checkAgainst(b, ns.sets, idx, &r)
			if err != nil {
				return err
			}
			if len(m) > 0 {
				msgs = append(msgs, m...)
				continue
			}
			b.put(ns, idx, r)
		}
		if len(msgs) > 0 {
			return errBatch(msgs)
		}
		if names, err = b.flush(); err != nil {
			return err
		}
		if err := zones.Put(tx, sc, z.ID, *z); err != nil {
			return err
		}
		info, err = s.newChange(tx, sc, in.ChangeBatch.Comment)
		return err
	}, func() { s.publishNamesLocked(ctx, sc, z, names) })
	if err != nil {
		return nil, err
	}
	return &route53api.ChangeResourceRecordSetsResponse{ChangeInfo: info}, nil
}

// inUseAsAlias refuses to delete r while an alias of the zone targets its
// name and no other set of the name is left.
func inUseAsAlias(b *batch, ns *nameSets, r *rrset) (string, error) {
	if slices.ContainsFunc(ns.sets, func(o rrset) bool { return idOf(&o) != idOf(r) }) {
		return "", nil
	}
	a, err := b.aliasOf(r)
	if err != nil || a == nil {
		return "", err
	}
	return fmt.Sprintf("Tried to delete resource record set %s but it is the target of an alias resource record set %s", describe(r), describe(a)), nil
}

// checkAgainst checks r against the other record sets of its name (sets,
// with r's current version at idx, or -1) and its alias target.
func checkAgainst(b *batch, sets []rrset, idx int, r *rrset) ([]string, error) {
	name, typ := deref(r.Name), deref(r.Type)
	z := b.zone
	var msgs []string
	for i := range sets {
		if i == idx {
			continue
		}
		o := &sets[i]
		ot := deref(o.Type)
		if (typ == "CNAME") != (ot == "CNAME") {
			return []string{fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", escapeName(name), escapeName(z.Name))}, nil
		}
		if ot != typ {
			continue
		}
		if policy(o) != policy(r) {
			if policy(r) == "" {
				return []string{fmt.Sprintf("RRSet with DNS name %s, type %s cannot be created as a non-simple set exists with the same name and type", escapeName(name), typ)}, nil
			}
			return []string{fmt.Sprintf("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created because a %s set exists with the same name and type", escapeName(name), typ, deref(r.SetIdentifier), orSimple(policy(o)))}, nil
		}
		if r.Failover != nil && deref(o.Failover) == *r.Failover {
			return []string{fmt.Sprintf("Tried to create resource record set %s but a record set of type %s with failover %s already exists", describe(r), typ, *r.Failover)}, nil
		}
	}
	if at := r.AliasTarget; at != nil {
		target := deref(at.HostedZoneId)
		tname := deref(at.DNSName)
		switch {
		case target == z.ID:
			ts, err := b.of(tname)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(ts.sets, func(o rrset) bool { return deref(o.Type) == typ || deref(o.Type) == "CNAME" }) {
				msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", escapeName(tname), typ, target))
			}
		case serviceAliasZones[target]:
		default:
			_, ok, err := zones.Get(b.tx, b.sc, target)
			if err != nil || !ok {
				msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", escapeName(tname), typ, target))
				break
			}
			tn, _, err := rrsets.Get(b.tx, b.sc, nameID(target, tname))
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(tn.Sets, func(o rrset) bool { return deref(o.Type) == typ }) {
				msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found", escapeName(tname), typ, target))
			}
		}
	}
	return msgs, nil
}

func orSimple(p string) string {
	if p == "" {
		return "simple"
	}
	return p
}

// recordLess is AWS's listing order: DNS name with labels reversed, then
// type, then set identifier.
func recordLess(an, at, as, bn, bt, bs string) bool {
	ra, rb := reversedName(an), reversedName(bn)
	if ra != rb {
		return ra < rb
	}
	if at != bt {
		return at < bt
	}
	return as < bs
}

func outRecord(r rrset) rrset {
	r.Name = new(escapeName(deref(r.Name)))
	if r.AliasTarget != nil {
		at := *r.AliasTarget
		at.DNSName = new(escapeName(deref(at.DNSName)))
		r.AliasTarget = &at
	}
	return r
}

// ListResourceRecordSets lists a zone's record sets in AWS's order, from
// StartRecordName/Type/Identifier, at most MaxItems (default and max 300).
func (s *Service) ListResourceRecordSets(ctx context.Context, in *route53api.ListResourceRecordSetsRequest) (*route53api.ListResourceRecordSetsResponse, error) {
	n, err := maxItems(in.MaxItems, 300, 300)
	if err != nil {
		return nil, err
	}
	if in.StartRecordType != nil && in.StartRecordName == nil {
		return nil, errInvalidInput("The input is not valid. If you specify StartRecordType, you must also specify StartRecordName.")
	}
	if in.StartRecordIdentifier != nil && in.StartRecordType == nil {
		return nil, errInvalidInput("The input is not valid. If you specify StartRecordIdentifier, you must also specify StartRecordType.")
	}
	if in.StartRecordType != nil && !recordTypes[*in.StartRecordType] {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set", *in.StartRecordType)
	}
	out := &route53api.ListResourceRecordSetsResponse{ResourceRecordSets: []rrset{}, IsTruncated: new(false), MaxItems: new(fmt.Sprint(n))}
	startName, startType, startSet := "", deref(in.StartRecordType), deref(in.StartRecordIdentifier)
	if in.StartRecordName != nil {
		startName = normalizeName(*in.StartRecordName)
	}
	err = s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		z, err := getZone(tx, sc, deref(in.HostedZoneId))
		if err != nil {
			return err
		}
		return forEachName(tx, sc, z.ID, startName, func(_ string, nr *nameRecord) error {
			for i := range nr.Sets {
				r := &nr.Sets[i]
				if startName != "" && recordLess(deref(r.Name), deref(r.Type), deref(r.SetIdentifier), startName, startType, startSet) {
					continue
				}
				if len(out.ResourceRecordSets) == n {
					out.IsTruncated = new(true)
					out.NextRecordName = new(escapeName(deref(r.Name)))
					out.NextRecordType = r.Type
					out.NextRecordIdentifier = r.SetIdentifier
					return state.ErrStop
				}
				out.ResourceRecordSets = append(out.ResourceRecordSets, outRecord(*r))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
