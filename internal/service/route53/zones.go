package route53

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

func getZone(tx state.Tx, sc state.Scope, id string) (*zoneRecord, error) {
	id = strings.TrimPrefix(id, "/hostedzone/")
	if id == "" {
		return nil, errNoSuchZone(id)
	}
	z, ok, err := zones.Get(tx, sc, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSuchZone(id)
	}
	return &z, nil
}

// zone reads zone id in its own transaction.
func (s *Service) zone(ctx context.Context, id string) (*zoneRecord, error) {
	var z *zoneRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		z, err = getZone(tx, sc, id)
		return err
	})
	return z, err
}

// normalizeName lower-cases a DNS name, adds the trailing dot and turns
// Route 53's octal escapes (\052 for "*") back into characters.
func normalizeName(name string) string {
	name = unescapeName(strings.ToLower(strings.TrimSpace(name)))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

func unescapeName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')*64 + (s[i+2]-'0')*8 + (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// escapeName writes a name as Route 53 returns it: characters other than
// a-z, 0-9, "-", "_" and "." as \ooo octal escapes (so "*" is \052).
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	return b.String()
}

// reversedName is the sort key AWS lists names by: labels reversed
// ("www.example.com." → "com.example.www").
func reversedName(name string) string {
	labels := strings.Split(strings.TrimSuffix(escapeName(name), "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

func validZoneName(name string) bool {
	if len(name) > 255 || name == "." {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

func (z *zoneRecord) apiZone() *route53api.HostedZone {
	hz := &route53api.HostedZone{
		Id:                     new("/hostedzone/" + z.ID),
		Name:                   new(escapeName(z.Name)),
		CallerReference:        new(z.CallerReference),
		Config:                 &route53api.HostedZoneConfig{Comment: z.Comment, PrivateZone: new(z.Private)},
		ResourceRecordSetCount: new(int64(z.Count)),
	}
	return hz
}

func (z *zoneRecord) delegationSet() *route53api.DelegationSet {
	if z.Private {
		return nil
	}
	ds := &route53api.DelegationSet{NameServers: z.NameServers}
	if z.DelegationSetID != "" {
		ds.Id = new("/delegationset/" + z.DelegationSetID)
	}
	return ds
}

func validVPC(v *route53api.VPC) error {
	if v == nil || deref(v.VPCId) == "" || !state.ValidID("vpc", deref(v.VPCId)) {
		return api.Errorf(http.StatusBadRequest, "InvalidVPCId", "Invalid or missing VPC Id.")
	}
	if deref(v.VPCRegion) == "" {
		return errInvalidInput("Invalid request: Missing field 'VPCRegion'")
	}
	return nil
}

func sameVPC(a, b route53api.VPC) bool {
	return deref(a.VPCId) == deref(b.VPCId) && deref(a.VPCRegion) == deref(b.VPCRegion)
}

// CreateHostedZone creates a public zone, or a private one with a VPC,
// with its SOA and NS record sets.
func (s *Service) CreateHostedZone(ctx context.Context, in *route53api.CreateHostedZoneRequest) (*route53api.CreateHostedZoneResponse, error) {
	name := normalizeName(deref(in.Name))
	if !validZoneName(name) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidDomainName", "%s is reserved by AWS!", deref(in.Name))
	}
	ref := deref(in.CallerReference)
	if ref == "" || len(ref) > 128 {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 128", ref)
	}
	private := in.VPC != nil
	setID := stripPrefix(in.DelegationSetId, "/delegationset/")
	if setID != "" && private {
		return nil, errInvalidInput("A reusable delegation set can't be associated with a private hosted zone.")
	}
	if in.HostedZoneConfig != nil && deref(in.HostedZoneConfig.PrivateZone) && !private {
		return nil, errInvalidInput("When you create a private hosted zone, you must specify a VPC.")
	}
	if private {
		if err := validVPC(in.VPC); err != nil {
			return nil, err
		}
	}
	var comment *string
	if in.HostedZoneConfig != nil && in.HostedZoneConfig.Comment != nil {
		comment = in.HostedZoneConfig.Comment
		if len(*comment) > 256 {
			return nil, errInvalidInput("1 validation error detected: Value at 'hostedZoneConfig.comment' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
	}
	hash := state.HashParams(map[string]any{"name": name, "vpc": in.VPC, "private": private, "comment": comment, "delegationSet": setID})
	var (
		z    zoneRecord
		info *route53api.ChangeInfo
	)
	var apex []*dnszone.RecordSet
	err := s.change(ctx, func(tx state.Tx, sc state.Scope) error {
		if r, ok, err := zoneRefs.Get(tx, sc, ref); err != nil {
			return err
		} else if ok {
			existing, found, err := zones.Get(tx, sc, r.ID)
			if err != nil {
				return err
			}
			if r.Hash != hash || !found {
				return api.Errorf(http.StatusConflict, "HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.")
			}
			z = existing
			info = &route53api.ChangeInfo{Id: new("/change/" + newChangeID()), Status: new("INSYNC"), SubmittedAt: new(s.now().UTC())}
			return nil
		}
		if private {
			// Two private zones of one name may not share a VPC.
			err := zones.ForEach(tx, sc, func(_ string, o zoneRecord) error {
				if o.Private && o.Name == name {
					for _, v := range o.VPCs {
						if sameVPC(v, *in.VPC) {
							return api.Errorf(http.StatusBadRequest, "ConflictingDomainExists", "The VPC %s in %s region has already been associated with the hosted zone %s with the same domain name.", deref(v.VPCId), deref(v.VPCRegion), o.ID)
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		z = zoneRecord{ID: newZoneID(), Name: name, CallerReference: ref, Comment: comment, Private: private, Created: s.now().UTC()}
		ns := privateNameServers
		if private {
			z.VPCs = []route53api.VPC{*in.VPC}
		} else {
			z.NameServers = nameServers(z.ID)
			if setID != "" {
				if err := useDelegationSet(tx, sc, setID, &z); err != nil {
					return err
				}
			}
			ns = z.NameServers
		}
		nsValues := make([]route53api.ResourceRecord, len(ns))
		for i, n := range ns {
			nsValues[i] = route53api.ResourceRecord{Value: new(n)}
		}
		sets := []route53api.ResourceRecordSet{
			{Name: new(name), Type: new("NS"), TTL: new(int64(172800)), ResourceRecords: nsValues},
			{Name: new(name), Type: new("SOA"), TTL: new(int64(900)), ResourceRecords: []route53api.ResourceRecord{{Value: new(ns[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400")}}},
		}
		var err error
		if z.Count, err = putNames(tx, sc, z.ID, sets); err != nil {
			return err
		}
		apex = toRecordSets(sets)
		if err := zones.Put(tx, sc, z.ID, z); err != nil {
			return err
		}
		if err := zoneRefs.Put(tx, sc, ref, refRecord{ID: z.ID, Hash: hash}); err != nil {
			return err
		}
		info, err = s.newChange(tx, sc, nil)
		return err
	}, func() {
		if apex != nil { // nil: an earlier request's zone, already published
			s.publishLocked(z.ID, toZone(&z, apex))
		}
	})
	if err != nil {
		return nil, err
	}
	out := &route53api.CreateHostedZoneResponse{
		HostedZone:    z.apiZone(),
		ChangeInfo:    info,
		DelegationSet: z.delegationSet(),
		Location:      new("https://route53.amazonaws.com/2013-04-01/hostedzone/" + z.ID),
	}
	if z.Private && len(z.VPCs) > 0 {
		out.VPC = &z.VPCs[0]
	}
	return out, nil
}

// GetHostedZone returns a zone with its delegation set or VPCs.
func (s *Service) GetHostedZone(ctx context.Context, in *route53api.GetHostedZoneRequest) (*route53api.GetHostedZoneResponse, error) {
	z, err := s.zone(ctx, deref(in.Id))
	if err != nil {
		return nil, err
	}
	out := &route53api.GetHostedZoneResponse{HostedZone: z.apiZone(), DelegationSet: z.delegationSet()}
	if z.Private {
		out.VPCs = z.VPCs
	}
	return out, nil
}

func (s *Service) listZones(ctx context.Context) ([]zoneRecord, error) {
	var list []zoneRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		list, err = zones.List(tx, sc)
		return err
	})
	return list, err
}

// ListHostedZones lists zones in ID order; Marker is the first zone's ID.
func (s *Service) ListHostedZones(ctx context.Context, in *route53api.ListHostedZonesRequest) (*route53api.ListHostedZonesResponse, error) {
	n, err := maxItems(in.MaxItems, 100, 100)
	if err != nil {
		return nil, err
	}
	setID := stripPrefix(in.DelegationSetId, "/delegationset/")
	typ := deref(in.HostedZoneType)
	if typ != "" && typ != "PrivateHostedZone" {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'hostedZoneType' failed to satisfy constraint: Member must satisfy enum value set: [PrivateHostedZone]", typ)
	}
	var list []zoneRecord
	err = s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		if setID != "" {
			if _, err := getDelegationSet(tx, sc, setID); err != nil {
				return err
			}
		}
		list, err = zones.List(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	marker := stripPrefix(in.Marker, "/hostedzone/")
	out := &route53api.ListHostedZonesResponse{HostedZones: []route53api.HostedZone{}, MaxItems: new(fmt.Sprint(n)), IsTruncated: new(false)}
	if in.Marker != nil {
		out.Marker = in.Marker
	}
	for _, z := range list {
		if z.ID < marker || (typ != "" && !z.Private) || (setID != "" && z.DelegationSetID != setID) {
			continue
		}
		if len(out.HostedZones) == n {
			out.IsTruncated = new(true)
			out.NextMarker = new(z.ID)
			break
		}
		out.HostedZones = append(out.HostedZones, *z.apiZone())
	}
	return out, nil
}

// ListHostedZonesByName lists zones by name with labels reversed, then ID.
func (s *Service) ListHostedZonesByName(ctx context.Context, in *route53api.ListHostedZonesByNameRequest) (*route53api.ListHostedZonesByNameResponse, error) {
	n, err := maxItems(in.MaxItems, 100, 100)
	if err != nil {
		return nil, err
	}
	if in.HostedZoneId != nil && in.DNSName == nil {
		return nil, errInvalidInput("The DNSName parameter is required if HostedZoneId is specified.")
	}
	list, err := s.listZones(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := reversedName(list[i].Name), reversedName(list[j].Name)
		if a != b {
			return a < b
		}
		return list[i].ID < list[j].ID
	})
	out := &route53api.ListHostedZonesByNameResponse{HostedZones: []route53api.HostedZone{}, MaxItems: new(fmt.Sprint(n)), IsTruncated: new(false), DNSName: in.DNSName, HostedZoneId: in.HostedZoneId}
	startName, startID := "", stripPrefix(in.HostedZoneId, "/hostedzone/")
	if in.DNSName != nil {
		startName = reversedName(normalizeName(*in.DNSName))
	}
	for _, z := range list {
		rn := reversedName(z.Name)
		if rn < startName || (rn == startName && z.ID < startID) {
			continue
		}
		if len(out.HostedZones) == n {
			out.IsTruncated = new(true)
			out.NextDNSName = new(escapeName(z.Name))
			out.NextHostedZoneId = new(z.ID)
			break
		}
		out.HostedZones = append(out.HostedZones, *z.apiZone())
	}
	return out, nil
}

// GetHostedZoneCount counts the account's zones.
func (s *Service) GetHostedZoneCount(ctx context.Context, _ *route53api.GetHostedZoneCountRequest) (*route53api.GetHostedZoneCountResponse, error) {
	list, err := s.listZones(ctx)
	if err != nil {
		return nil, err
	}
	return &route53api.GetHostedZoneCountResponse{HostedZoneCount: new(int64(len(list)))}, nil
}

// DeleteHostedZone deletes a zone holding only its SOA and NS at the apex.
func (s *Service) DeleteHostedZone(ctx context.Context, in *route53api.DeleteHostedZoneRequest) (*route53api.DeleteHostedZoneResponse, error) {
	var (
		info *route53api.ChangeInfo
		id   string
	)
	err := s.change(ctx, func(tx state.Tx, sc state.Scope) error {
		z, err := getZone(tx, sc, deref(in.Id))
		if err != nil {
			return err
		}
		id = z.ID
		var apex []string
		err = forEachName(tx, sc, z.ID, "", func(nid string, n *nameRecord) error {
			for _, r := range n.Sets {
				if !(deref(r.Name) == z.Name && (deref(r.Type) == "SOA" || deref(r.Type) == "NS")) {
					return api.Errorf(http.StatusBadRequest, "HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
				}
			}
			apex = append(apex, nid)
			return nil
		})
		if err != nil {
			return err
		}
		for _, nid := range apex {
			if err := rrsets.Delete(tx, sc, nid); err != nil {
				return err
			}
		}
		if err := zones.Delete(tx, sc, z.ID); err != nil {
			return err
		}
		info, err = s.newChange(tx, sc, nil)
		return err
	}, func() { s.publishLocked(id, nil) })
	if err != nil {
		return nil, err
	}
	return &route53api.DeleteHostedZoneResponse{ChangeInfo: info}, nil
}

// UpdateHostedZoneComment replaces (or, without Comment, clears) the comment.
func (s *Service) UpdateHostedZoneComment(ctx context.Context, in *route53api.UpdateHostedZoneCommentRequest) (*route53api.UpdateHostedZoneCommentResponse, error) {
	if in.Comment != nil && len(*in.Comment) > 256 {
		return nil, errInvalidInput("1 validation error detected: Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	var z *zoneRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		if z, err = getZone(tx, sc, deref(in.Id)); err != nil {
			return err
		}
		z.Comment = in.Comment
		return zones.Put(tx, sc, z.ID, *z)
	})
	if err != nil {
		return nil, err
	}
	return &route53api.UpdateHostedZoneCommentResponse{HostedZone: z.apiZone()}, nil
}

// AssociateVPCWithHostedZone adds a VPC to a private zone.
func (s *Service) AssociateVPCWithHostedZone(ctx context.Context, in *route53api.AssociateVPCWithHostedZoneRequest) (*route53api.AssociateVPCWithHostedZoneResponse, error) {
	if err := validVPC(in.VPC); err != nil {
		return nil, err
	}
	var (
		info *route53api.ChangeInfo
		z    *zoneRecord
	)
	err := s.change(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		z, err = getZone(tx, sc, deref(in.HostedZoneId))
		if err != nil {
			return err
		}
		if !z.Private {
			return api.Errorf(http.StatusBadRequest, "PublicZoneVPCAssociation", "You're trying to associate a VPC with a public hosted zone. Amazon Route 53 doesn't support associating a VPC with a public hosted zone.")
		}
		err = zones.ForEach(tx, sc, func(_ string, o zoneRecord) error {
			if !o.Private || o.Name != z.Name {
				return nil
			}
			for _, v := range o.VPCs {
				if sameVPC(v, *in.VPC) {
					return api.Errorf(http.StatusBadRequest, "ConflictingDomainExists", "The VPC %s in %s region has already been associated with the hosted zone %s with the same domain name.", deref(v.VPCId), deref(v.VPCRegion), o.ID)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		z.VPCs = append(z.VPCs, route53api.VPC{VPCId: in.VPC.VPCId, VPCRegion: in.VPC.VPCRegion})
		if err := zones.Put(tx, sc, z.ID, *z); err != nil {
			return err
		}
		info, err = s.newChange(tx, sc, in.Comment)
		return err
	}, func() { s.publishZoneLocked(z) })
	if err != nil {
		return nil, err
	}
	return &route53api.AssociateVPCWithHostedZoneResponse{ChangeInfo: info}, nil
}

// DisassociateVPCFromHostedZone removes a VPC from a private zone; the last
// one cannot be removed.
func (s *Service) DisassociateVPCFromHostedZone(ctx context.Context, in *route53api.DisassociateVPCFromHostedZoneRequest) (*route53api.DisassociateVPCFromHostedZoneResponse, error) {
	if err := validVPC(in.VPC); err != nil {
		return nil, err
	}
	var (
		info *route53api.ChangeInfo
		z    *zoneRecord
	)
	err := s.change(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		z, err = getZone(tx, sc, deref(in.HostedZoneId))
		if err != nil {
			return err
		}
		if !z.Private {
			return api.Errorf(http.StatusNotFound, "VPCAssociationNotFound", "The specified VPC and hosted zone are not currently associated.")
		}
		idx := -1
		for i, v := range z.VPCs {
			if sameVPC(v, *in.VPC) {
				idx = i
			}
		}
		if idx < 0 {
			return api.Errorf(http.StatusNotFound, "VPCAssociationNotFound", "The specified VPC and hosted zone are not currently associated.")
		}
		if len(z.VPCs) == 1 {
			return api.Errorf(http.StatusBadRequest, "LastVPCAssociation", "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.")
		}
		z.VPCs = append(z.VPCs[:idx:idx], z.VPCs[idx+1:]...)
		if err := zones.Put(tx, sc, z.ID, *z); err != nil {
			return err
		}
		info, err = s.newChange(tx, sc, in.Comment)
		return err
	}, func() { s.publishZoneLocked(z) })
	if err != nil {
		return nil, err
	}
	return &route53api.DisassociateVPCFromHostedZoneResponse{ChangeInfo: info}, nil
}
