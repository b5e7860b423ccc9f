package acm

import (
	"context"
	"fmt"
	"slices"

	"github.com/minicloud/minicloud/internal/certport"
	"github.com/minicloud/minicloud/internal/state"
)

// Port is ACM as the other services see it (certport.Port): the load
// balancers' listeners look their certificates up, with the key, and say
// which they use, which shows in InUseBy and blocks DeleteCertificate.
func (s *Service) Port() certport.Port { return port{s} }

type port struct{ s *Service }

var _ certport.Port = port{}

// Certificate returns the certificate arn names in the account's region,
// with its status now (a certificate past its NotAfter is EXPIRED).
func (p port) Certificate(ctx context.Context, account, region, arn string) (certport.Cert, bool, error) {
	sc := state.Scope{Account: account, Region: region}
	id, err := certID(sc, arn)
	if err != nil {
		return certport.Cert{}, false, nil
	}
	var (
		r     certRecord
		found bool
	)
	err = p.s.store.View(ctx, func(tx state.Tx) error {
		r, found, err = certs.Get(tx, sc, id)
		return err
	})
	if err != nil || !found {
		return certport.Cert{}, false, err
	}
	return certport.Cert{
		ARN: r.ARN, Status: r.status(p.s.now()), DomainName: r.DomainName, SANs: slices.Clone(r.Names),
		NotBefore: r.NotBefore, NotAfter: r.NotAfter,
		CertificatePEM: []byte(r.CertificatePEM), ChainPEM: []byte(r.ChainPEM), PrivateKeyPEM: []byte(r.PrivateKeyPEM),
	}, true, nil
}

// Use adds user to the certificate's InUseBy; a certificate that does not
// exist is an error.
func (p port) Use(ctx context.Context, account, region, arn, user string) error {
	return p.changeUsers(ctx, account, region, arn, func(users []string) ([]string, error) {
		if slices.Contains(users, user) {
			return users, nil
		}
		return append(users, user), nil
	}, true)
}

// Unuse removes user from the certificate's InUseBy.
func (p port) Unuse(ctx context.Context, account, region, arn, user string) error {
	return p.changeUsers(ctx, account, region, arn, func(users []string) ([]string, error) {
		return slices.DeleteFunc(users, func(u string) bool { return u == user }), nil
	}, false)
}

func (p port) changeUsers(ctx context.Context, account, region, arn string, fn func([]string) ([]string, error), mustExist bool) error {
	sc := state.Scope{Account: account, Region: region}
	id, err := certID(sc, arn)
	if err != nil {
		if mustExist {
			return fmt.Errorf("acm: use %s: %w", arn, err)
		}
		return nil
	}
	return p.s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := certs.Get(tx, sc, id)
		if err != nil {
			return err
		}
		if !found {
			if mustExist {
				return fmt.Errorf("acm: use %s: %w", arn, errNotFound(arn, account))
			}
			return nil
		}
		users, err := fn(slices.Clone(r.InUseBy))
		if err != nil {
			return err
		}
		if slices.Equal(users, r.InUseBy) {
			return nil
		}
		r.InUseBy = users
		return certs.Put(tx, sc, id, r)
	})
}
