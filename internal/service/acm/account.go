package acm

import (
	"context"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Expiry events: ACM's default, and the most days CloudFormation's
// AWS::CertificateManager::Account documents.
const (
	defaultDaysBeforeExpiry = 45
	maxDaysBeforeExpiry     = 45
)

// tokenLife is how long an idempotency token holds: an hour, for
// RequestCertificate and PutAccountConfiguration alike.
const tokenLife = time.Hour

// GetAccountConfiguration returns the account's expiry events setting
// (45 days until changed). minicloud sends no events: the setting is kept
// and shown, as the API's.
func (s *Service) GetAccountConfiguration(ctx context.Context, _ *acmapi.Empty) (*acmapi.GetAccountConfigurationResponse, error) {
	days := int32(defaultDaysBeforeExpiry)
	sc := scopeOf(ctx)
	err := s.store.View(ctx, func(tx state.Tx) error {
		c, ok, err := accounts.Get(tx, sc, accountKey)
		if ok {
			days = c.DaysBeforeExpiry
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.GetAccountConfigurationResponse{ExpiryEvents: &acmapi.ExpiryEventsConfiguration{DaysBeforeExpiry: new(days)}}, nil
}

// PutAccountConfiguration changes the expiry events setting. A call
// repeating the last call's idempotency token within the hour is the same
// request: it changes nothing.
func (s *Service) PutAccountConfiguration(ctx context.Context, in *acmapi.PutAccountConfigurationRequest) (*acmapi.Empty, error) {
	var v violations
	token := deref(in.IdempotencyToken)
	v.length(token, "idempotencyToken", 1, maxTokenLen)
	v.pattern(token, "idempotencyToken", tokenRE, tokenPattern)
	var days *int32
	if in.ExpiryEvents != nil {
		days = in.ExpiryEvents.DaysBeforeExpiry
	}
	if days != nil && (*days < 1 || *days > maxDaysBeforeExpiry) {
		shown := strconv.Itoa(int(*days))
		constraint := "Member must have value greater than or equal to 1"
		if *days > maxDaysBeforeExpiry {
			constraint = "Member must have value less than or equal to " + strconv.Itoa(maxDaysBeforeExpiry)
		}
		v.Add(&shown, "expiryEvents.daysBeforeExpiry", constraint)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	err := s.store.Update(ctx, func(tx state.Tx) error {
		c, ok, err := accounts.Get(tx, sc, accountKey)
		if err != nil {
			return err
		}
		if !ok {
			c.DaysBeforeExpiry = defaultDaysBeforeExpiry
		}
		if c.Token == token && now.Sub(c.TokenAt) < tokenLife {
			return nil
		}
		if days != nil {
			c.DaysBeforeExpiry = *days
		}
		c.Token, c.TokenAt = token, now
		return accounts.Put(tx, sc, accountKey, c)
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.Empty{}, nil
}
