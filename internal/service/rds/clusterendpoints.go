package rds

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A DB cluster's endpoints (DescribeDBClusterEndpoints): its cluster
// endpoint (WRITER) and reader endpoint (READER), which every cluster has,
// and up to five custom endpoints (records.ClusterEndpoint: CUSTOM, of type
// READER or ANY, over the StaticMembers named or every member but the
// ExcludedMembers), named <id>.cluster-custom-<hash>.<region>.rds.amazonaws.com.
// The API records them in status creating (modifying after a change); the
// controller makes them answer and reports available. FailoverDBCluster is
// here too: it records the request (records.Cluster.Failover) that the
// controller carries out.

// maxCustomEndpoints is AWS's quota of custom endpoints per DB cluster.
const maxCustomEndpoints = 5

func errClusterEndpointNotFound(id string) error {
	return api.Errorf(http.StatusNotFound, "DBClusterEndpointNotFoundFault", "DBClusterEndpoint %s not found.", id)
}

// customEndpointType checks a custom endpoint's EndpointType, READER or
// ANY in any case, and returns it in upper case.
func customEndpointType(t string) (string, error) {
	switch u := strings.ToUpper(t); u {
	case "READER", "ANY":
		return u, nil
	}
	return "", errInvalidParam("Invalid endpoint type: %s. Valid values are READER and ANY.", t)
}

// checkEndpointMembers checks StaticMembers and ExcludedMembers against
// cluster c's members.
func checkEndpointMembers(c *records.Cluster, static, excluded []string) error {
	if len(static) > 0 && len(excluded) > 0 {
		return errCombination("You can't specify both StaticMembers and ExcludedMembers for a custom endpoint.")
	}
	for _, id := range append(slices.Clone(static), excluded...) {
		if c.Member(strings.ToLower(id)) == nil {
			return errInvalidParam("DB instance %s is not a member of DB cluster %s.", id, deref(c.DBClusterIdentifier))
		}
	}
	return nil
}

func lowerAll(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, strings.ToLower(id))
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// CreateDBClusterEndpoint records a custom endpoint of a cluster.
func (s *Service) CreateDBClusterEndpoint(ctx context.Context, in *rdsapi.CreateDBClusterEndpointMessage) (*rdsapi.DBClusterEndpoint, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	raw := deref(in.DBClusterEndpointIdentifier)
	if !validIdentifier(raw) {
		return nil, errInvalidParam("The parameter DBClusterEndpointIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
	}
	typ, err := customEndpointType(deref(in.EndpointType))
	if err != nil {
		return nil, err
	}
	id := strings.ToLower(raw)
	var ep records.ClusterEndpoint
	err = s.store.Update(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, sc, deref(in.DBClusterIdentifier))
		if err != nil {
			return err
		}
		if st := deref(c.Status); st != "available" {
			return errClusterState("DbCluster %s is not in available state.", deref(c.DBClusterIdentifier))
		}
		if _, found, err := records.ClusterEndpoints.Get(tx, sc, id); err != nil {
			return err
		} else if found {
			return api.Errorf(http.StatusBadRequest, "DBClusterEndpointAlreadyExistsFault", "DBClusterEndpoint %s already exists.", id)
		}
		if len(c.CustomEndpoints) >= maxCustomEndpoints {
			return api.Errorf(http.StatusForbidden, "DBClusterEndpointQuotaExceededFault", "DB cluster %s already has %d custom endpoints, the most it can have.", deref(c.DBClusterIdentifier), maxCustomEndpoints)
		}
		if err := checkEndpointMembers(&c, in.StaticMembers, in.ExcludedMembers); err != nil {
			return err
		}
		ep = records.ClusterEndpoint{
			ID: id, Cluster: deref(c.DBClusterIdentifier),
			ResourceID: "cluster-endpoint-" + strings.ToLower(engine.RandomString(26)),
			Address:    clusterEndpoint(sc, id, "cluster-custom"),
			Type:       typ, Static: lowerAll(in.StaticMembers), Excluded: lowerAll(in.ExcludedMembers),
			Status: "creating", ARN: state.NewARN(sc, "rds", "cluster-endpoint:"+id).String(), Tags: in.Tags,
		}
		c.CustomEndpoints = append(c.CustomEndpoints, ep.Address)
		if err := records.Clusters.Put(tx, sc, ep.Cluster, c); err != nil {
			return err
		}
		return records.ClusterEndpoints.Put(tx, sc, id, ep)
	})
	if err != nil {
		return nil, err
	}
	return showEndpoint(&ep), nil
}

// showEndpoint is the API form of custom endpoint ep.
func showEndpoint(ep *records.ClusterEndpoint) *rdsapi.DBClusterEndpoint {
	return &rdsapi.DBClusterEndpoint{
		DBClusterEndpointIdentifier: ptr(ep.ID), DBClusterIdentifier: ptr(ep.Cluster),
		DBClusterEndpointResourceIdentifier: ptr(ep.ResourceID), Endpoint: ptr(ep.Address),
		Status: ptr(ep.Status), EndpointType: ptr("CUSTOM"), CustomEndpointType: ptr(ep.Type),
		StaticMembers: orEmpty(ep.Static), ExcludedMembers: orEmpty(ep.Excluded), DBClusterEndpointArn: ptr(ep.ARN),
	}
}

func orEmpty(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return slices.Clone(ids)
}

// builtinEndpoints are cluster c's cluster (WRITER) and reader (READER)
// endpoints, as DescribeDBClusterEndpoints lists them.
func builtinEndpoints(c *records.Cluster) []rdsapi.DBClusterEndpoint {
	var out []rdsapi.DBClusterEndpoint
	for _, e := range []struct{ typ, addr string }{{"WRITER", deref(c.Endpoint)}, {"READER", deref(c.ReaderEndpoint)}} {
		out = append(out, rdsapi.DBClusterEndpoint{
			DBClusterIdentifier: c.DBClusterIdentifier, Endpoint: ptr(e.addr), Status: ptr("available"), EndpointType: ptr(e.typ),
		})
	}
	return out
}

var endpointFilters = []string{"db-cluster-endpoint-type", "db-cluster-endpoint-custom-type", "db-cluster-endpoint-id", "db-cluster-endpoint-status"}

// DescribeDBClusterEndpoints lists a cluster's endpoints (or every
// cluster's), or one custom endpoint.
func (s *Service) DescribeDBClusterEndpoints(ctx context.Context, in *rdsapi.DescribeDBClusterEndpointsMessage) (*rdsapi.DBClusterEndpointMessage, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains(endpointFilters, deref(f.Name)) {
			return nil, errInvalidParam("Unrecognized filter name: %s", deref(f.Name))
		}
	}
	var all []rdsapi.DBClusterEndpoint
	err := s.store.View(ctx, func(tx state.Tx) error {
		if raw := in.DBClusterEndpointIdentifier; raw != nil {
			ep, found, err := records.ClusterEndpoints.Get(tx, sc, strings.ToLower(*raw))
			if err != nil || !found || (in.DBClusterIdentifier != nil && strings.ToLower(*in.DBClusterIdentifier) != ep.Cluster) {
				return orNotFound(err, errClusterEndpointNotFound(*raw))
			}
			all = append(all, *showEndpoint(&ep))
			return nil
		}
		var clusters []records.Cluster
		if in.DBClusterIdentifier != nil {
			c, err := getCluster(tx, sc, *in.DBClusterIdentifier)
			if err != nil {
				return err
			}
			clusters = append(clusters, c)
		} else {
			var err error
			if clusters, err = records.Clusters.List(tx, sc); err != nil {
				return err
			}
		}
		for _, c := range clusters {
			all = append(all, builtinEndpoints(&c)...)
			for _, addr := range c.CustomEndpoints {
				ep, found, err := records.ClusterEndpoints.Get(tx, sc, records.EndpointID(addr))
				if err != nil {
					return err
				}
				if found {
					all = append(all, *showEndpoint(&ep))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(e rdsapi.DBClusterEndpoint) bool { return !matchEndpointFilters(in.Filters, &e) })
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(e rdsapi.DBClusterEndpoint) string { return deref(e.Endpoint) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBClusterEndpointMessage{DBClusterEndpoints: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

func matchEndpointFilters(fs []rdsapi.Filter, e *rdsapi.DBClusterEndpoint) bool {
	for _, f := range fs {
		var have string
		switch deref(f.Name) {
		case "db-cluster-endpoint-type":
			have = strings.ToLower(deref(e.EndpointType))
		case "db-cluster-endpoint-custom-type":
			have = strings.ToLower(deref(e.CustomEndpointType))
		case "db-cluster-endpoint-id":
			have = deref(e.DBClusterEndpointIdentifier)
		case "db-cluster-endpoint-status":
			have = deref(e.Status)
		}
		if !slices.ContainsFunc(f.Values, func(v string) bool { return strings.EqualFold(v, have) }) {
			return false
		}
	}
	return true
}

// mutateEndpoint runs fn on custom endpoint raw and its cluster in one
// transaction and writes the endpoint.
func (s *Service) mutateEndpoint(ctx context.Context, raw *string, fn func(tx state.Tx, ep *records.ClusterEndpoint, c *records.Cluster) error) (*rdsapi.DBClusterEndpoint, error) {
	sc := scopeOf(ctx)
	var out *rdsapi.DBClusterEndpoint
	err := s.store.Update(ctx, func(tx state.Tx) error {
		id := strings.ToLower(deref(raw))
		ep, found, err := records.ClusterEndpoints.Get(tx, sc, id)
		if err != nil || !found {
			return orNotFound(err, errClusterEndpointNotFound(deref(raw)))
		}
		c, err := getCluster(tx, sc, ep.Cluster)
		if err != nil {
			return err
		}
		if err := fn(tx, &ep, &c); err != nil {
			return err
		}
		out = showEndpoint(&ep)
		if ep.Status == "deleting" {
			return records.ClusterEndpoints.Delete(tx, sc, id)
		}
		return records.ClusterEndpoints.Put(tx, sc, id, ep)
	})
	return out, err
}

// ModifyDBClusterEndpoint changes a custom endpoint's type or members.
func (s *Service) ModifyDBClusterEndpoint(ctx context.Context, in *rdsapi.ModifyDBClusterEndpointMessage) (*rdsapi.DBClusterEndpoint, error) {
	return s.mutateEndpoint(ctx, in.DBClusterEndpointIdentifier, func(_ state.Tx, ep *records.ClusterEndpoint, c *records.Cluster) error {
		if ep.Status != "available" {
			return api.Errorf(http.StatusBadRequest, "InvalidDBClusterEndpointStateFault", "DBClusterEndpoint %s is in %s state, not available.", ep.ID, ep.Status)
		}
		if t := in.EndpointType; t != nil {
			typ, err := customEndpointType(*t)
			if err != nil {
				return err
			}
			ep.Type = typ
		}
		if err := checkEndpointMembers(c, in.StaticMembers, in.ExcludedMembers); err != nil {
			return err
		}
		// Giving one list replaces the other, as on AWS.
		if in.StaticMembers != nil {
			ep.Static, ep.Excluded = lowerAll(in.StaticMembers), nil
		}
		if in.ExcludedMembers != nil {
			ep.Static, ep.Excluded = nil, lowerAll(in.ExcludedMembers)
		}
		ep.Status = "modifying"
		return nil
	})
}

// DeleteDBClusterEndpoint deletes a custom endpoint.
func (s *Service) DeleteDBClusterEndpoint(ctx context.Context, in *rdsapi.DeleteDBClusterEndpointMessage) (*rdsapi.DBClusterEndpoint, error) {
	return s.mutateEndpoint(ctx, in.DBClusterEndpointIdentifier, func(tx state.Tx, ep *records.ClusterEndpoint, c *records.Cluster) error {
		if ep.Status != "available" && ep.Status != "creating" {
			return api.Errorf(http.StatusBadRequest, "InvalidDBClusterEndpointStateFault", "DBClusterEndpoint %s is in %s state; it can be deleted when available.", ep.ID, ep.Status)
		}
		ep.Status = "deleting"
		c.CustomEndpoints = slices.DeleteFunc(c.CustomEndpoints, func(a string) bool { return a == ep.Address })
		return records.Clusters.Put(tx, scopeOf(ctx), ep.Cluster, *c)
	})
}

// FailoverDBCluster asks for a failover of an available cluster to a
// reader (TargetDBInstanceIdentifier, else the controller's choice by
// PromotionTier): the cluster is failing-over until the controller has
// promoted it and cleared the request.
func (s *Service) FailoverDBCluster(ctx context.Context, in *rdsapi.FailoverDBClusterMessage) (*rdsapi.FailoverDBClusterResult, error) {
	c, err := s.mutateCluster(ctx, in.DBClusterIdentifier, func(_ state.Tx, c *records.Cluster, members []records.Instance) error {
		if st := deref(c.Status); st != "available" {
			return errClusterState("DbCluster %s is not in available state.", deref(c.DBClusterIdentifier))
		}
		writer := c.Writer()
		target := strings.ToLower(deref(in.TargetDBInstanceIdentifier))
		if target != "" && (c.Member(target) == nil || target == writer) {
			return errInvalidParam("DB instance %s is not a reader of DB cluster %s.", deref(in.TargetDBInstanceIdentifier), deref(c.DBClusterIdentifier))
		}
		readers := 0
		for _, m := range members {
			id := deref(m.DBInstanceIdentifier)
			if id == writer {
				continue
			}
			if deref(m.DBInstanceStatus) == "available" {
				readers++
			} else if id == target {
				return errInstanceState("DB instance %s is in %s state, not available.", id, deref(m.DBInstanceStatus))
			}
		}
		if readers == 0 {
			return errClusterState("DB cluster %s has no available reader to fail over to.", deref(c.DBClusterIdentifier))
		}
		c.Failover = &records.ClusterFailover{Target: target}
		c.Status = ptr("failing-over")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.FailoverDBClusterResult{DBCluster: c}, nil
}
