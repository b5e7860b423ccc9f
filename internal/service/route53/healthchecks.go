package route53

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/state"
)

func getHealthCheck(tx state.Tx, sc state.Scope, id string) (*healthCheckRecord, error) {
	if id == "" {
		return nil, errNoSuchHealthCheck(id)
	}
	h, ok, err := healthChecks.Get(tx, sc, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSuchHealthCheck(id)
	}
	return &h, nil
}

var probeTypes = map[string]bool{"HTTP": true, "HTTPS": true, "HTTP_STR_MATCH": true, "HTTPS_STR_MATCH": true, "TCP": true}

// checkConfig validates a health check configuration and fills AWS's
// defaults (port 80/443, interval 30, threshold 3).
func checkConfig(c *route53api.HealthCheckConfig, creating bool) error {
	typ := deref(c.Type)
	if !probeTypes[typ] {
		if creating {
			return errInvalidInput("Invalid health check type %s: minicloud supports HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH and TCP", typ)
		}
	}
	if c.IPAddress == nil && c.FullyQualifiedDomainName == nil {
		return errInvalidInput("Invalid parameter: Either IPAddress or FullyQualifiedDomainName must be specified")
	}
	if c.IPAddress != nil {
		if _, err := netip.ParseAddr(*c.IPAddress); err != nil {
			return errInvalidInput("Invalid IP address: %s", *c.IPAddress)
		}
	}
	if c.Port == nil {
		port := int32(80)
		if typ == "HTTPS" || typ == "HTTPS_STR_MATCH" {
			port = 443
		}
		if typ == "TCP" {
			return errInvalidInput("Invalid parameter: Port must be specified for TCP health checks")
		}
		c.Port = new(port)
	}
	if *c.Port < 1 || *c.Port > 65535 {
		return errInvalidInput("1 validation error detected: Value '%d' at 'healthCheckConfig.port' failed to satisfy constraint: Member must have value between 1 and 65535", *c.Port)
	}
	if c.RequestInterval == nil {
		c.RequestInterval = new(int32(30))
	}
	if *c.RequestInterval != 10 && *c.RequestInterval != 30 {
		return errInvalidInput("1 validation error detected: Value '%d' at 'healthCheckConfig.requestInterval' failed to satisfy constraint: Member must have value between 10 and 30", *c.RequestInterval)
	}
	if c.FailureThreshold == nil {
		c.FailureThreshold = new(int32(3))
	}
	if *c.FailureThreshold < 1 || *c.FailureThreshold > 10 {
		return errInvalidInput("1 validation error detected: Value '%d' at 'healthCheckConfig.failureThreshold' failed to satisfy constraint: Member must have value between 1 and 10", *c.FailureThreshold)
	}
	strMatch := typ == "HTTP_STR_MATCH" || typ == "HTTPS_STR_MATCH"
	if strMatch && deref(c.SearchString) == "" {
		return errInvalidInput("Invalid parameter: SearchString must be specified for %s health checks", typ)
	}
	if !strMatch && c.SearchString != nil {
		return errInvalidInput("Invalid parameter: SearchString is only allowed for HTTP_STR_MATCH and HTTPS_STR_MATCH health checks")
	}
	if len(deref(c.SearchString)) > 255 {
		return errInvalidInput("1 validation error detected: Value at 'healthCheckConfig.searchString' failed to satisfy constraint: Member must have length less than or equal to 255")
	}
	if typ == "TCP" && c.ResourcePath != nil {
		return errInvalidInput("Invalid parameter: ResourcePath is not allowed for TCP health checks")
	}
	if c.MeasureLatency == nil {
		c.MeasureLatency = new(false)
	}
	if c.Inverted == nil {
		c.Inverted = new(false)
	}
	if c.Disabled == nil {
		c.Disabled = new(false)
	}
	if c.EnableSNI == nil {
		c.EnableSNI = new(typ == "HTTPS" || typ == "HTTPS_STR_MATCH")
	}
	return nil
}

// CreateHealthCheck creates a health check; reusing a CallerReference with
// the same configuration returns the existing one.
func (s *Service) CreateHealthCheck(ctx context.Context, in *route53api.CreateHealthCheckRequest) (*route53api.CreateHealthCheckResponse, error) {
	ref := deref(in.CallerReference)
	if ref == "" || len(ref) > 64 {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 64", ref)
	}
	if in.HealthCheckConfig == nil {
		return nil, errInvalidInput("Invalid request: Missing field 'HealthCheckConfig'")
	}
	cfg := *in.HealthCheckConfig
	hash := state.HashParams(cfg)
	if err := checkConfig(&cfg, true); err != nil {
		return nil, err
	}
	var h healthCheckRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if r, ok, err := hcRefs.Get(tx, sc, ref); err != nil {
			return err
		} else if ok {
			existing, found, err := healthChecks.Get(tx, sc, r.ID)
			if err != nil {
				return err
			}
			if r.Hash != hash || !found {
				return api.Errorf(http.StatusConflict, "HealthCheckAlreadyExists", "A health check with the specified CallerReference already exists and its configuration differs from the configuration in this request.")
			}
			h = existing
			return nil
		}
		h = healthCheckRecord{HealthCheck: route53api.HealthCheck{Id: new(newHealthCheckID()), CallerReference: new(ref), HealthCheckConfig: &cfg, HealthCheckVersion: new(int64(1))}}
		if err := healthChecks.Put(tx, sc, *h.Id, h); err != nil {
			return err
		}
		return hcRefs.Put(tx, sc, ref, refRecord{ID: *h.Id, Hash: hash})
	})
	if err != nil {
		return nil, err
	}
	s.checker.set(*h.Id, *h.HealthCheckConfig)
	return &route53api.CreateHealthCheckResponse{HealthCheck: &h.HealthCheck, Location: new("https://route53.amazonaws.com/2013-04-01/healthcheck/" + *h.Id)}, nil
}

// GetHealthCheck returns a health check.
func (s *Service) GetHealthCheck(ctx context.Context, in *route53api.GetHealthCheckRequest) (*route53api.GetHealthCheckResponse, error) {
	var h *healthCheckRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		h, err = getHealthCheck(tx, sc, deref(in.HealthCheckId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &route53api.GetHealthCheckResponse{HealthCheck: &h.HealthCheck}, nil
}

func (s *Service) allHealthChecks(ctx context.Context) ([]healthCheckRecord, error) {
	var list []healthCheckRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		list, err = healthChecks.List(tx, sc)
		return err
	})
	return list, err
}

// ListHealthChecks lists health checks in ID order (MaxItems default 100,
// at most 1000).
func (s *Service) ListHealthChecks(ctx context.Context, in *route53api.ListHealthChecksRequest) (*route53api.ListHealthChecksResponse, error) {
	n, err := maxItems(in.MaxItems, 100, 1000)
	if err != nil {
		return nil, err
	}
	list, err := s.allHealthChecks(ctx)
	if err != nil {
		return nil, err
	}
	out := &route53api.ListHealthChecksResponse{HealthChecks: []route53api.HealthCheck{}, IsTruncated: new(false), MaxItems: new(fmt.Sprint(n)), Marker: in.Marker}
	marker := deref(in.Marker)
	for _, h := range list {
		if *h.Id < marker {
			continue
		}
		if len(out.HealthChecks) == n {
			out.IsTruncated = new(true)
			out.NextMarker = h.Id
			break
		}
		out.HealthChecks = append(out.HealthChecks, h.HealthCheck)
	}
	return out, nil
}

// GetHealthCheckCount counts the account's health checks.
func (s *Service) GetHealthCheckCount(ctx context.Context, _ *route53api.GetHealthCheckCountRequest) (*route53api.GetHealthCheckCountResponse, error) {
	list, err := s.allHealthChecks(ctx)
	if err != nil {
		return nil, err
	}
	return &route53api.GetHealthCheckCountResponse{HealthCheckCount: new(int64(len(list)))}, nil
}

// DeleteHealthCheck deletes a health check no record set refers to.
func (s *Service) DeleteHealthCheck(ctx context.Context, in *route53api.DeleteHealthCheckRequest) (*route53api.DeleteHealthCheckResponse, error) {
	id := deref(in.HealthCheckId)
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if _, err := getHealthCheck(tx, sc, id); err != nil {
			return err
		}
		users, err := rrsets.Lookup(tx, sc, "healthcheck", id)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			zoneID, _, _ := strings.Cut(users[0], "/")
			return api.Errorf(http.StatusBadRequest, "HealthCheckInUse", "The health check with id %s is still referenced from parameter HealthCheckId of a resource record set in hosted zone %s.", id, zoneID)
		}
		return healthChecks.Delete(tx, sc, id)
	})
	if err != nil {
		return nil, err
	}
	s.checker.remove(id)
	return &route53api.DeleteHealthCheckResponse{}, nil
}

// UpdateHealthCheck changes a health check's settings, optionally guarded
// by HealthCheckVersion.
func (s *Service) UpdateHealthCheck(ctx context.Context, in *route53api.UpdateHealthCheckRequest) (*route53api.UpdateHealthCheckResponse, error) {
	id := deref(in.HealthCheckId)
	var h *healthCheckRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		if h, err = getHealthCheck(tx, sc, id); err != nil {
			return err
		}
		if in.HealthCheckVersion != nil && *in.HealthCheckVersion != deref(h.HealthCheckVersion) {
			return api.Errorf(http.StatusConflict, "HealthCheckVersionMismatch", "The value of HealthCheckVersion in the request doesn't match the value of HealthCheckVersion in the health check.")
		}
		c := *h.HealthCheckConfig
		set := func(dst **string, v *string) {
			if v != nil {
				*dst = v
			}
		}
		set(&c.IPAddress, in.IPAddress)
		set(&c.ResourcePath, in.ResourcePath)
		set(&c.FullyQualifiedDomainName, in.FullyQualifiedDomainName)
		set(&c.SearchString, in.SearchString)
		if in.Port != nil {
			c.Port = in.Port
		}
		if in.FailureThreshold != nil {
			c.FailureThreshold = in.FailureThreshold
		}
		if in.Inverted != nil {
			c.Inverted = in.Inverted
		}
		if in.Disabled != nil {
			c.Disabled = in.Disabled
		}
		if in.EnableSNI != nil {
			c.EnableSNI = in.EnableSNI
		}
		if in.Regions != nil {
			c.Regions = in.Regions
		}
		for _, e := range in.ResetElements {
			switch e {
			case "FullyQualifiedDomainName":
				c.FullyQualifiedDomainName = nil
			case "Regions":
				c.Regions = nil
			case "ResourcePath":
				c.ResourcePath = nil
			case "ChildHealthChecks":
				c.ChildHealthChecks = nil
			default:
				return errInvalidInput("1 validation error detected: Value '%s' at 'resetElements' failed to satisfy constraint", e)
			}
		}
		if err := checkConfig(&c, false); err != nil {
			return err
		}
		h.HealthCheckConfig = &c
		h.HealthCheckVersion = new(deref(h.HealthCheckVersion) + 1)
		return healthChecks.Put(tx, sc, id, *h)
	})
	if err != nil {
		return nil, err
	}
	s.checker.set(id, *h.HealthCheckConfig)
	return &route53api.UpdateHealthCheckResponse{HealthCheck: &h.HealthCheck}, nil
}

// GetHealthCheckStatus reports the checker's last observation (one checker,
// region us-east-1; none before the first probe).
func (s *Service) GetHealthCheckStatus(ctx context.Context, in *route53api.GetHealthCheckStatusRequest) (*route53api.GetHealthCheckStatusResponse, error) {
	id := deref(in.HealthCheckId)
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		_, err := getHealthCheck(tx, sc, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &route53api.GetHealthCheckStatusResponse{HealthCheckObservations: []route53api.HealthCheckObservation{}}
	if obs, ok := s.checker.observation(id); ok {
		out.HealthCheckObservations = append(out.HealthCheckObservations, route53api.HealthCheckObservation{
			Region:       new("us-east-1"),
			IPAddress:    new(obs.source),
			StatusReport: &route53api.StatusReport{Status: new(obs.status), CheckedTime: new(obs.checked)},
		})
	}
	return out, nil
}
