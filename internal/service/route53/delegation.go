package route53

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

// Public hosted zones of the same name. Route 53 lets any number of public
// zones share a name, in one account or several; on the internet only the
// one whose name servers the domain's registrar (the parent zone) lists
// answers, and the others answer nobody. minicloud's DNS server plays the
// internet, so it models that delegation with one deterministic rule:
//
//   - the delegated zone of a name is the one chosen with Delegate (the
//     registrar pointed at its name servers; POST
//     /_minicloud/route53/delegation?zone=ID), while it exists;
//   - else the oldest public zone of that name (creation time, then ID):
//     the first zone created answers until it is deleted, and a zone
//     created later never takes over, empty or not, whoever owns it;
//   - the other zones of the name are Shadowed in the snapshot: the DNS
//     server skips them (their records exist for the API, as on AWS).
//
// Deleting the delegated zone hands the name to the oldest remaining one,
// as a registrar update would after the owner's zone went away.

// delegation is the registrar's choice for a name: the zone whose name
// servers it lists.
type delegation struct {
	Name   string `json:"name"`
	ZoneID string `json:"zoneId"`
}

// Delegations live outside any account, like the registrar.
var (
	delegations     = state.Table[delegation]{Service: "route53", Kind: "delegation"}
	delegationScope = state.Scope{Account: "registrar", Region: state.GlobalRegion}
)

// Delegation reports, for each name served by more than one public zone,
// which zone answers and which are shadowed.
type Delegation struct {
	Name      string   `json:"name"`
	Answering string   `json:"answering"`
	Chosen    bool     `json:"chosen"` // by Delegate, rather than by age
	Shadowed  []string `json:"shadowed"`
}

// Delegate points the name of the public hosted zone id (of any account)
// at that zone, as updating the domain's name servers at its registrar
// does: from now on it answers the name on minicloud's DNS server, and
// every other public zone of that name is shadowed.
func (s *Service) Delegate(ctx context.Context, id string) (Delegation, error) {
	id = strings.TrimPrefix(id, "/hostedzone/")
	z := s.published(id)
	switch {
	case z == nil:
		return Delegation{}, api.Errorf(http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
	case z.Private:
		return Delegation{}, api.Errorf(http.StatusBadRequest, "InvalidInput", "Hosted zone %s is private: only public zones are delegated.", id)
	}
	s.mu.Lock()
	if err := s.store.Update(ctx, func(tx state.Tx) error {
		return delegations.Put(tx, delegationScope, z.Name, delegation{Name: z.Name, ZoneID: id})
	}); err != nil {
		s.mu.Unlock()
		return Delegation{}, fmt.Errorf("route53: record delegation: %w", err)
	}
	s.delegated[z.Name] = id
	s.publishLocked("", nil)
	s.mu.Unlock()
	for _, d := range s.Delegations() {
		if d.Name == z.Name {
			return d, nil
		}
	}
	return Delegation{Name: z.Name, Answering: id, Chosen: true}, nil
}

// Delegations lists the names several public zones share, in name order.
func (s *Service) Delegations() []Delegation {
	s.mu.Lock()
	byName := map[string]*Delegation{}
	var names []string
	for _, z := range s.snap.Load().Zones {
		if z.Private {
			continue
		}
		d := byName[z.Name]
		if d == nil {
			d = &Delegation{Name: z.Name}
			byName[z.Name] = d
			names = append(names, z.Name)
		}
		if z.Shadowed {
			d.Shadowed = append(d.Shadowed, z.ID)
		} else {
			d.Answering, d.Chosen = z.ID, s.delegated[z.Name] == z.ID
		}
	}
	s.mu.Unlock()
	var out []Delegation
	for _, n := range names {
		if d := byName[n]; len(d.Shadowed) > 0 {
			out = append(out, *d)
		}
	}
	return out
}

// markShadowed applies the delegation rule to a snapshot's zones: among the
// public zones of one name, all but the delegated one are Shadowed. A zone
// whose mark changes is replaced by a copy (the zones are shared with
// published snapshots, which never change).
func markShadowed(zs []*dnszone.Zone, delegated map[string]string) {
	byName := map[string][]int{}
	for i := range zs {
		if !zs[i].Private {
			byName[zs[i].Name] = append(byName[zs[i].Name], i)
		}
	}
	mark := func(i int, shadowed bool) {
		if zs[i].Shadowed != shadowed {
			c := *zs[i]
			c.Shadowed = shadowed
			zs[i] = &c
		}
	}
	for i := range zs {
		if zs[i].Private {
			mark(i, false)
		}
	}
	for name, idx := range byName {
		answer := slices.MinFunc(idx, func(a, b int) int {
			return cmp.Or(zs[a].Created.Compare(zs[b].Created), strings.Compare(zs[a].ID, zs[b].ID))
		})
		for _, i := range idx {
			if zs[i].ID == delegated[name] {
				answer = i
			}
		}
		for _, i := range idx {
			mark(i, i != answer)
		}
	}
}
