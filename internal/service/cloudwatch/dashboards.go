package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/state"
)

// dashboardRecord is a dashboard in the state store: its body exactly as
// PutDashboard was given it (GetDashboard answers it unchanged, as AWS).
type dashboardRecord struct {
	Body     string
	Modified time.Time
}

// Dashboards are global to an account ("All dashboards in your account are
// global, not region-specific"): they live in the account's global scope
// and their ARNs carry no region.
var dashboards = state.Table[dashboardRecord]{Service: "cloudwatch", Kind: "dashboard"}

// listDashboardsPage is ListDashboards' page size, AWS's documented 1,000.
const listDashboardsPage = 1000

func dashboardScope(ctx context.Context) state.Scope {
	return state.Global(api.Request(ctx).Account)
}

func dashboardARN(account, name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", account, name)
}

// checkDashboardName applies the model's rule (1–255 of A-Z a-z 0-9 - _)
// with AWS's message, seen in real traces.
func checkDashboardName(name *string) error {
	if name == nil {
		return errMissing("The parameter DashboardName is required.")
	}
	valid := len(*name) >= 1 && len(*name) <= 255 && strings.IndexFunc(*name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
	if !valid {
		return errValue("The value %s for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).", *name)
	}
	return nil
}

// PutDashboard creates or replaces a dashboard after validating its body
// as AWS does; an invalid body is InvalidParameterInput listing every
// problem, both in the message and in dashboardValidationMessages.
func (s *Service) PutDashboard(ctx context.Context, in *cloudwatchapi.PutDashboardInput) (*cloudwatchapi.PutDashboardOutput, error) {
	if err := checkDashboardName(in.DashboardName); err != nil {
		return nil, err
	}
	if in.DashboardBody == nil {
		return nil, errMissing("The parameter DashboardBody is required.")
	}
	if msgs := validateDashboardBody(*in.DashboardBody); len(msgs) > 0 {
		return nil, errDashboardInvalid(msgs)
	}
	sc, name := dashboardScope(ctx), *in.DashboardName
	rec := dashboardRecord{Body: *in.DashboardBody, Modified: s.now()}
	if err := s.state.Update(ctx, func(tx state.Tx) error { return dashboards.Put(tx, sc, name, rec) }); err != nil {
		return nil, fmt.Errorf("put dashboard %s: %w", name, err)
	}
	return &cloudwatchapi.PutDashboardOutput{DashboardValidationMessages: []cloudwatchapi.DashboardValidationMessage{}}, nil
}

// errDashboardInvalid is AWS's InvalidParameterInput for a body that fails
// validation: the message embeds the list as indented JSON (dataPath
// first), the error's member carries it for SDKs. The error is named by
// its shape, as errDashboardNotFound.
func errDashboardInvalid(msgs []validationMessage) error {
	var text strings.Builder
	enc := json.NewEncoder(&text)
	enc.SetEscapeHTML(false) // "Should be <= 23", not \u003c
	enc.SetIndent("", "  ")
	_ = enc.Encode(msgs) // strings only: cannot fail
	fields := make([]any, len(msgs))
	for i, m := range msgs {
		fields[i] = map[string]any{"DataPath": m.DataPath, "Message": m.Message}
	}
	return &codec.Error{
		Code:    "DashboardInvalidInputError",
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf("The dashboard body is invalid, there are %d validation errors:\n%s", len(msgs), strings.TrimSuffix(text.String(), "\n")),
		Fields:  map[string]any{"dashboardValidationMessages": fields},
	}
}

// errDashboardNotFound is ResourceNotFound (404) named by its shape, so
// SDKs give their DashboardNotFoundError type (query clients see the code).
func errDashboardNotFound(format string, args ...any) error {
	return api.Errorf(http.StatusNotFound, "DashboardNotFoundError", format, args...)
}

// GetDashboard answers a dashboard's body as it was put.
func (s *Service) GetDashboard(ctx context.Context, in *cloudwatchapi.GetDashboardInput) (*cloudwatchapi.GetDashboardOutput, error) {
	if in.DashboardName == nil {
		return nil, errMissing("The parameter DashboardName is required.")
	}
	sc, name := dashboardScope(ctx), *in.DashboardName
	var rec dashboardRecord
	err := s.state.View(ctx, func(tx state.Tx) error {
		if name == "" { // no record has an empty id; the store refuses it as a key
			return errDashboardNotFound("Dashboard %s does not exist", name)
		}
		var found bool
		var err error
		if rec, found, err = dashboards.Get(tx, sc, name); err == nil && !found {
			return errDashboardNotFound("Dashboard %s does not exist", name)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get dashboard %s: %w", name, err)
	}
	return &cloudwatchapi.GetDashboardOutput{
		DashboardName: ptr(name),
		DashboardArn:  ptr(dashboardARN(sc.Account, name)),
		DashboardBody: ptr(rec.Body),
	}, nil
}

// ListDashboards lists the account's dashboards in name order, those whose
// names start with DashboardNamePrefix when given, 1,000 a page.
func (s *Service) ListDashboards(ctx context.Context, in *cloudwatchapi.ListDashboardsInput) (*cloudwatchapi.ListDashboardsOutput, error) {
	after, ok := api.ParsePageToken("dashboards", in.NextToken)
	if !ok {
		return nil, errValue("The value %s for parameter NextToken is invalid.", deref(in.NextToken))
	}
	if err := checkLen(in.DashboardNamePrefix, "DashboardNamePrefix", 0, 255); err != nil {
		return nil, err
	}
	sc, prefix := dashboardScope(ctx), deref(in.DashboardNamePrefix)
	out := &cloudwatchapi.ListDashboardsOutput{DashboardEntries: []cloudwatchapi.DashboardEntry{}}
	err := s.state.View(ctx, func(tx state.Tx) error {
		var names []string
		recs := map[string]dashboardRecord{}
		err := dashboards.ForEach(tx, sc, func(name string, r dashboardRecord) error {
			if strings.HasPrefix(name, prefix) && name > after {
				names = append(names, name)
				recs[name] = r
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.Sort(names)
		if len(names) > listDashboardsPage {
			names = names[:listDashboardsPage]
			out.NextToken = api.PageToken("dashboards", names[len(names)-1])
		}
		for _, n := range names {
			r := recs[n]
			out.DashboardEntries = append(out.DashboardEntries, cloudwatchapi.DashboardEntry{
				DashboardName: ptr(n),
				DashboardArn:  ptr(dashboardARN(sc.Account, n)),
				LastModified:  ptr(r.Modified),
				Size:          ptr(int64(len(r.Body))),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	return out, nil
}

// DeleteDashboards deletes up to 100 dashboards, all or none: a name of no
// dashboard deletes nothing and answers ResourceNotFound (the API
// reference: "If there is an error during this call, no dashboards are
// deleted").
func (s *Service) DeleteDashboards(ctx context.Context, in *cloudwatchapi.DeleteDashboardsInput) (*cloudwatchapi.DeleteDashboardsOutput, error) {
	if in.DashboardNames == nil {
		return nil, errMissing("The parameter DashboardNames is required.")
	}
	if len(in.DashboardNames) > 100 {
		return nil, errTooMany("DashboardNames", 100)
	}
	sc := dashboardScope(ctx)
	err := s.state.Update(ctx, func(tx state.Tx) error {
		for _, n := range in.DashboardNames {
			if _, ok := tx.Get(dashboards.Key(sc, n)); !ok {
				return errDashboardNotFound("The specified dashboard does not exist.")
			}
		}
		for _, n := range in.DashboardNames {
			if err := dashboards.Delete(tx, sc, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete dashboards: %w", err)
	}
	return &cloudwatchapi.DeleteDashboardsOutput{}, nil
}
