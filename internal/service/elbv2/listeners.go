package elbv2

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/service/elbv2/sslpolicy"
	"github.com/minicloud/minicloud/internal/state"
)

// Listeners HTTP and HTTPS: CreateListener, DeleteListener,
// DescribeListeners, ModifyListener, and an HTTPS listener's certificates
// (AddListenerCertificates, RemoveListenerCertificates,
// DescribeListenerCertificates). A listener's default actions are its
// default rule, which DescribeRules lists last with IsDefault. Each ACM
// certificate a listener serves is marked in use by its load balancer
// (certport.Use, so ACM shows it in InUseBy and refuses to delete it) once
// the listener is written, and released once no listener of the load
// balancer serves it.

const (
	protoHTTP  = "HTTP"
	protoHTTPS = "HTTPS"
)

const (
	maxListeners    = 50
	maxCertificates = 25
)

// listenerProtocols are the protocols of the API; an ALB takes HTTP and
// HTTPS.
var listenerProtocols = []string{protoHTTP, protoHTTPS, "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE"}

// listenerSpec is a listener's settings as a create or modify request
// leaves them, checked alone.
type listenerSpec struct {
	port     int32
	protocol string
	policy   string
	cert     string // the default certificate, HTTPS only
	actions  []elbv2api.Action
}

func checkProtocol(p string) error {
	switch {
	case p == protoHTTP || p == protoHTTPS:
		return nil
	case slices.Contains(listenerProtocols, p):
		return errValidation("Listener protocol '%s' must be one of '%s, %s'", p, protoHTTPS, protoHTTP)
	}
	return errEnum(p, "protocol", listenerProtocols...)
}

// checkTLS checks an HTTPS listener's policy and certificates (or their
// absence on HTTP) and returns the policy and default certificate.
func checkTLS(protocol string, policy *string, certs []elbv2api.Certificate) (string, string, error) {
	if protocol != protoHTTPS {
		if policy != nil {
			return "", "", errValidation("An SSL policy can only be specified for HTTPS listeners")
		}
		if len(certs) > 0 {
			return "", "", errValidation("Certificates can only be specified for HTTPS listeners")
		}
		return "", "", nil
	}
	name := cmp.Or(deref(policy), sslpolicy.Default)
	if _, ok := sslpolicy.Lookup(name); !ok {
		return "", "", errCode("SSLPolicyNotFound", "SSL policy '%s' not found", name)
	}
	switch {
	case len(certs) == 0:
		return "", "", errValidation("A certificate must be specified for HTTPS listeners")
	case len(certs) > 1:
		return "", "", errValidation("You must provide a list containing exactly one certificate if the listener protocol is HTTPS.")
	case deref(certs[0].CertificateArn) == "":
		return "", "", errValidation("A certificate ARN must be specified")
	}
	return name, deref(certs[0].CertificateArn), nil
}

// checkCertificate asks ACM whether arn is a certificate a listener can
// serve: it exists in the account and region and is issued.
func (s *Service) checkCertificate(ctx context.Context, sc state.Scope, arn string) error {
	if s.cfg.Certs == nil {
		return errCode("CertificateNotFound", "Certificate '%s' not found", arn)
	}
	c, found, err := s.cfg.Certs.Certificate(ctx, sc.Account, sc.Region, arn)
	if err != nil {
		return fmt.Errorf("look up certificate %s: %w", arn, err)
	}
	if !found || c.Status != "ISSUED" {
		return errCode("CertificateNotFound", "Certificate '%s' not found", arn)
	}
	return nil
}

// useCerts marks certificates in use by load balancer lbARN; a failure is
// logged (the controller marks them again on its next pass).
func (s *Service) useCerts(ctx context.Context, sc state.Scope, lbARN string, arns []string) {
	if s.cfg.Certs == nil {
		return
	}
	for _, a := range arns {
		if err := s.cfg.Certs.Use(ctx, sc.Account, sc.Region, a, lbARN); err != nil {
			s.log.Warn("elbv2: mark a certificate in use", "certificate", a, "loadBalancer", lbARN, "err", err)
		}
	}
}

// unuseCerts releases certificates load balancer lbARN no longer serves.
func (s *Service) unuseCerts(ctx context.Context, sc state.Scope, lbARN string, arns []string) {
	if s.cfg.Certs == nil {
		return
	}
	for _, a := range arns {
		if err := s.cfg.Certs.Unuse(ctx, sc.Account, sc.Region, a, lbARN); err != nil {
			s.log.Warn("elbv2: release a certificate", "certificate", a, "loadBalancer", lbARN, "err", err)
		}
	}
}

// lbCertificates are every certificate the listeners of lbID serve.
func lbCertificates(tx state.Tx, sc state.Scope, lbID string) ([]string, error) {
	listeners, err := records.ListenersOf(tx, sc, lbID)
	var out []string
	for _, l := range listeners {
		out = append(out, l.CertificateARNs()...)
	}
	slices.Sort(out)
	return slices.Compact(out), err
}

// changeCerts runs change, a write to load balancer lbID's listeners in
// tx, and returns the certificates its listeners serve afterwards and
// those they no longer serve (released), for Use and Unuse once tx is
// committed.
func changeCerts(tx state.Tx, sc state.Scope, lbID string, change func() error) (after, released []string, err error) {
	before, err := lbCertificates(tx, sc, lbID)
	if err != nil {
		return nil, nil, err
	}
	if err := change(); err != nil {
		return nil, nil, err
	}
	if after, err = lbCertificates(tx, sc, lbID); err != nil {
		return nil, nil, err
	}
	for _, c := range before {
		if !slices.Contains(after, c) {
			released = append(released, c)
		}
	}
	return after, released, nil
}

func defaultRuleARN(sc state.Scope, l *records.Listener) string {
	return strings.Replace(deref(l.ListenerArn), ":listener/", ":listener-rule/", 1) + "/" + l.DefaultRuleID
}

func listenerKeyOf(sc state.Scope, l *records.Listener) string {
	p, _, _ := parseARN(sc, deref(l.ListenerArn), kindListener)
	return p.key
}

func putListener(tx state.Tx, sc state.Scope, l *records.Listener) error {
	return listenerTable.Put(tx, sc, listenerKeyOf(sc, l), *l)
}

// deleteListener deletes a listener and its rules.
func deleteListener(tx state.Tx, sc state.Scope, l *records.Listener) error {
	key := listenerKeyOf(sc, l)
	rules, err := records.RulesOf(tx, sc, key)
	if err != nil {
		return err
	}
	for _, r := range rules {
		p, _, _ := parseARN(sc, deref(r.RuleArn), kindRule)
		if err := ruleTable.Delete(tx, sc, p.key); err != nil {
			return err
		}
	}
	return listenerTable.Delete(tx, sc, key)
}

// describeListener is the Listener shape of a record: the default
// certificate only, as AWS shows it.
func describeListener(l *records.Listener) elbv2api.Listener {
	out := l.Listener
	out.Certificates = nil
	for _, c := range l.Certificates {
		out.Certificates = append(out.Certificates, elbv2api.Certificate{CertificateArn: c.CertificateArn})
	}
	return out
}

// CreateListener implements elbv2api.Server. As on AWS it is idempotent:
// a listener on the port with the same settings is returned as it is.
func (s *Service) CreateListener(ctx context.Context, in *elbv2api.CreateListenerInput) (*elbv2api.CreateListenerOutput, error) {
	sc := scopeOf(ctx)
	if in.Protocol == nil {
		return nil, errValidation("A listener protocol must be specified")
	}
	if in.Port == nil {
		return nil, errValidation("A listener port must be specified")
	}
	spec, err := s.checkListener(ctx, sc, *in.Port, *in.Protocol, in.SslPolicy, in.Certificates, in.DefaultActions, in.AlpnPolicy, in.MutualAuthentication)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	var out records.Listener
	var lbARN string
	err = s.update(ctx, func(tx state.Tx) error {
		lb, err := getLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		lbARN = deref(lb.LoadBalancerArn)
		if err := checkActionGroups(tx, sc, &lb, spec.actions); err != nil {
			return err
		}
		listeners, err := records.ListenersOf(tx, sc, lb.ID)
		if err != nil {
			return err
		}
		for _, l := range listeners {
			if deref(l.Port) != spec.port {
				continue
			}
			if deref(l.Protocol) == spec.protocol && deref(l.SslPolicy) == spec.policy && defaultCert(&l) == spec.cert && reflect.DeepEqual(l.DefaultActions, spec.actions) {
				out = l
				return nil
			}
			return errCode("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lbARN)
		}
		if len(listeners) >= maxListeners {
			return errCode("TooManyListeners", "You've reached the limit on the number of listeners per load balancer")
		}
		id := newID()
		out = records.Listener{DefaultRuleID: newID(), Tags: tags}
		out.Listener = elbv2api.Listener{ListenerArn: ptr(listenerARN(sc, deref(lb.LoadBalancerName), lb.ID, id)),
			LoadBalancerArn: ptr(lbARN), Port: ptr(spec.port), Protocol: ptr(spec.protocol), DefaultActions: spec.actions}
		setTLS(&out, spec)
		return putListener(tx, sc, &out)
	})
	if err != nil {
		return nil, err
	}
	s.useCerts(ctx, sc, lbARN, out.CertificateARNs())
	return &elbv2api.CreateListenerOutput{Listeners: []elbv2api.Listener{describeListener(&out)}}, nil
}

// checkListener checks a listener's settings alone and asks ACM about its
// certificate.
func (s *Service) checkListener(ctx context.Context, sc state.Scope, port int32, protocol string, policy *string, certs []elbv2api.Certificate,
	actions []elbv2api.Action, alpn []string, mtls *elbv2api.MutualAuthenticationAttributes) (listenerSpec, error) {
	if err := checkProtocol(protocol); err != nil {
		return listenerSpec{}, err
	}
	if port < 1 || port > 65535 {
		return listenerSpec{}, errRange(int64(port), "port", 1, 65535)
	}
	if len(alpn) > 0 {
		return listenerSpec{}, errCode("ALPNPolicyNotFound", "ALPN policies are supported only by TLS listeners of Network Load Balancers")
	}
	if mtls != nil && deref(mtls.Mode) != "" && deref(mtls.Mode) != "off" {
		return listenerSpec{}, errValidation("minicloud does not support mutual TLS authentication yet: its trust stores are not implemented")
	}
	pol, cert, err := checkTLS(protocol, policy, certs)
	if err != nil {
		return listenerSpec{}, err
	}
	acts, err := checkActionsAlone(actions)
	if err != nil {
		return listenerSpec{}, err
	}
	if cert != "" {
		if err := s.checkCertificate(ctx, sc, cert); err != nil {
			return listenerSpec{}, err
		}
	}
	return listenerSpec{port: port, protocol: protocol, policy: pol, cert: cert, actions: acts}, nil
}

func defaultCert(l *records.Listener) string {
	if len(l.Certificates) == 0 {
		return ""
	}
	return deref(l.Certificates[0].CertificateArn)
}

// setTLS gives a listener spec's protocol settings.
func setTLS(l *records.Listener, spec listenerSpec) {
	l.Protocol = ptr(spec.protocol)
	if spec.protocol != protoHTTPS {
		l.SslPolicy, l.Certificates, l.ExtraCertificates = nil, nil, nil
		return
	}
	l.SslPolicy = ptr(spec.policy)
	l.Certificates = []elbv2api.Certificate{{CertificateArn: ptr(spec.cert), IsDefault: ptr(true)}}
	l.ExtraCertificates = slices.DeleteFunc(l.ExtraCertificates, func(c string) bool { return c == spec.cert })
}

// DeleteListener implements elbv2api.Server: the listener and its rules.
func (s *Service) DeleteListener(ctx context.Context, in *elbv2api.DeleteListenerInput) (*elbv2api.DeleteListenerOutput, error) {
	sc := scopeOf(ctx)
	var lbARN string
	var gone []string
	err := s.update(ctx, func(tx state.Tx) error {
		l, err := getListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		lbARN = deref(l.LoadBalancerArn)
		lbID := records.LoadBalancerOf(listenerKeyOf(sc, &l))
		_, gone, err = changeCerts(tx, sc, lbID, func() error { return deleteListener(tx, sc, &l) })
		return err
	})
	if err != nil {
		return nil, err
	}
	s.unuseCerts(ctx, sc, lbARN, gone)
	return &elbv2api.DeleteListenerOutput{}, nil
}

// DescribeListeners implements elbv2api.Server: a load balancer's
// listeners, or listeners by ARN, ordered by load balancer and port.
func (s *Service) DescribeListeners(ctx context.Context, in *elbv2api.DescribeListenersInput) (*elbv2api.DescribeListenersOutput, error) {
	sc := scopeOf(ctx)
	switch {
	case in.LoadBalancerArn == nil && len(in.ListenerArns) == 0:
		return nil, errValidation("You must specify either listener ARNs or a load balancer ARN")
	case in.LoadBalancerArn != nil && len(in.ListenerArns) > 0:
		return nil, errValidation("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	}
	var list []records.Listener
	err := s.view(ctx, func(tx state.Tx) error {
		if in.LoadBalancerArn != nil {
			lb, err := getLB(tx, sc, *in.LoadBalancerArn)
			if err != nil {
				return err
			}
			list, err = records.ListenersOf(tx, sc, lb.ID)
			return err
		}
		for _, arn := range in.ListenerArns {
			l, err := getListener(tx, sc, arn)
			if err != nil {
				return err
			}
			list = append(list, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	described := make([]elbv2api.Listener, 0, len(list))
	for _, l := range list {
		described = append(described, describeListener(&l))
	}
	page, next, err := paginate(dedupe(described, func(l elbv2api.Listener) string { return deref(l.ListenerArn) }), in.PageSize, in.Marker,
		func(l elbv2api.Listener) string {
			return fmt.Sprintf("%s/%05d", deref(l.LoadBalancerArn), deref(l.Port))
		})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeListenersOutput{Listeners: page, NextMarker: next}, nil
}

// ModifyListener implements elbv2api.Server: what the request gives
// replaces the listener's; the rest stays.
func (s *Service) ModifyListener(ctx context.Context, in *elbv2api.ModifyListenerInput) (*elbv2api.ModifyListenerOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.ListenerArn)
	var cur records.Listener
	if err := s.view(ctx, func(tx state.Tx) (err error) { cur, err = getListener(tx, sc, arn); return err }); err != nil {
		return nil, err
	}
	protocol := cmp.Or(deref(in.Protocol), deref(cur.Protocol))
	policy, certs := in.SslPolicy, in.Certificates
	if protocol == protoHTTPS && deref(cur.Protocol) == protoHTTPS {
		policy = cmp.Or(policy, cur.SslPolicy)
		if len(certs) == 0 {
			certs = cur.Certificates
		}
	}
	actions := in.DefaultActions
	if len(actions) == 0 {
		actions = cur.DefaultActions
	}
	spec, err := s.checkListener(ctx, sc, cmp.Or(deref(in.Port), deref(cur.Port)), protocol, policy, certs, actions, in.AlpnPolicy, in.MutualAuthentication)
	if err != nil {
		return nil, err
	}
	var l records.Listener
	var after, gone []string
	err = s.update(ctx, func(tx state.Tx) error {
		var err error
		l, err = getListener(tx, sc, arn)
		if err != nil {
			return err
		}
		lb, err := getLB(tx, sc, deref(l.LoadBalancerArn))
		if err != nil {
			return err
		}
		if err := checkActionGroups(tx, sc, &lb, spec.actions); err != nil {
			return err
		}
		listeners, err := records.ListenersOf(tx, sc, lb.ID)
		if err != nil {
			return err
		}
		for _, o := range listeners {
			if deref(o.ListenerArn) != arn && deref(o.Port) == spec.port {
				return errCode("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", deref(lb.LoadBalancerArn))
			}
		}
		after, gone, err = changeCerts(tx, sc, lb.ID, func() error {
			l.Port, l.DefaultActions = ptr(spec.port), spec.actions
			setTLS(&l, spec)
			return putListener(tx, sc, &l)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.useCerts(ctx, sc, deref(l.LoadBalancerArn), after)
	s.unuseCerts(ctx, sc, deref(l.LoadBalancerArn), gone)
	return &elbv2api.ModifyListenerOutput{Listeners: []elbv2api.Listener{describeListener(&l)}}, nil
}

// AddListenerCertificates implements elbv2api.Server: certificates beyond
// the default one, which clients choose among by SNI.
func (s *Service) AddListenerCertificates(ctx context.Context, in *elbv2api.AddListenerCertificatesInput) (*elbv2api.AddListenerCertificatesOutput, error) {
	sc := scopeOf(ctx)
	var add []string
	for _, c := range in.Certificates {
		if deref(c.IsDefault) {
			return nil, errValidation("You cannot add a default certificate to the certificate list: use ModifyListener")
		}
		if deref(c.CertificateArn) == "" {
			return nil, errValidation("A certificate ARN must be specified")
		}
		if err := s.checkCertificate(ctx, sc, *c.CertificateArn); err != nil {
			return nil, err
		}
		add = append(add, *c.CertificateArn)
	}
	var l records.Listener
	err := s.update(ctx, func(tx state.Tx) error {
		var err error
		if l, err = getListener(tx, sc, deref(in.ListenerArn)); err != nil {
			return err
		}
		if deref(l.Protocol) != protoHTTPS {
			return errConfig("Certificates can only be added to HTTPS listeners")
		}
		for _, a := range add {
			if a != defaultCert(&l) && !slices.Contains(l.ExtraCertificates, a) {
				l.ExtraCertificates = append(l.ExtraCertificates, a)
			}
		}
		if len(l.ExtraCertificates) > maxCertificates {
			return errCode("TooManyCertificates", "You've reached the limit on the number of certificates per load balancer")
		}
		return putListener(tx, sc, &l)
	})
	if err != nil {
		return nil, err
	}
	s.useCerts(ctx, sc, deref(l.LoadBalancerArn), add)
	out := &elbv2api.AddListenerCertificatesOutput{Certificates: []elbv2api.Certificate{}}
	for _, a := range add {
		out.Certificates = append(out.Certificates, elbv2api.Certificate{CertificateArn: ptr(a), IsDefault: ptr(false)})
	}
	return out, nil
}

// RemoveListenerCertificates implements elbv2api.Server; the default
// certificate cannot be removed.
func (s *Service) RemoveListenerCertificates(ctx context.Context, in *elbv2api.RemoveListenerCertificatesInput) (*elbv2api.RemoveListenerCertificatesOutput, error) {
	sc := scopeOf(ctx)
	var l records.Listener
	var gone []string
	err := s.update(ctx, func(tx state.Tx) error {
		var err error
		if l, err = getListener(tx, sc, deref(in.ListenerArn)); err != nil {
			return err
		}
		lbID := records.LoadBalancerOf(listenerKeyOf(sc, &l))
		_, gone, err = changeCerts(tx, sc, lbID, func() error {
			for _, c := range in.Certificates {
				a := deref(c.CertificateArn)
				if deref(c.IsDefault) || a == defaultCert(&l) {
					return errCode("OperationNotPermitted", "The default certificate of a listener cannot be removed")
				}
				l.ExtraCertificates = slices.DeleteFunc(l.ExtraCertificates, func(x string) bool { return x == a })
			}
			return putListener(tx, sc, &l)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.unuseCerts(ctx, sc, deref(l.LoadBalancerArn), gone)
	return &elbv2api.RemoveListenerCertificatesOutput{}, nil
}

// DescribeListenerCertificates implements elbv2api.Server: the default
// certificate (IsDefault true) and the others.
func (s *Service) DescribeListenerCertificates(ctx context.Context, in *elbv2api.DescribeListenerCertificatesInput) (*elbv2api.DescribeListenerCertificatesOutput, error) {
	sc := scopeOf(ctx)
	var l records.Listener
	if err := s.view(ctx, func(tx state.Tx) (err error) { l, err = getListener(tx, sc, deref(in.ListenerArn)); return err }); err != nil {
		return nil, err
	}
	type entry struct {
		key  string
		cert elbv2api.Certificate
	}
	var list []entry
	if c := defaultCert(&l); c != "" {
		list = append(list, entry{"0" + c, elbv2api.Certificate{CertificateArn: ptr(c), IsDefault: ptr(true)}})
	}
	for _, c := range l.ExtraCertificates {
		list = append(list, entry{"1" + c, elbv2api.Certificate{CertificateArn: ptr(c), IsDefault: ptr(false)}})
	}
	page, next, err := paginate(list, in.PageSize, in.Marker, func(e entry) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeListenerCertificatesOutput{Certificates: []elbv2api.Certificate{}, NextMarker: next}
	for _, e := range page {
		out.Certificates = append(out.Certificates, e.cert)
	}
	return out, nil
}
