package ec2

import (
	"context"
	"encoding/base64"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// GetConsoleOutput returns the console output the instance runtime reported
// (ReportInstance), base64-encoded, with the time it last changed. An
// instance with no output yet has no Output, as in AWS.
func (s *Service) GetConsoleOutput(ctx context.Context, in *ec2api.GetConsoleOutputRequest) (*ec2api.GetConsoleOutputResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var out ec2api.GetConsoleOutputResult
	err := s.view(ctx, func(t *rtx) error {
		rec, err := instanceGet(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		id := deref(rec.InstanceId)
		ext, err := instanceExtGet(t, id)
		if err != nil {
			return err
		}
		out.InstanceId = new(id)
		ts := ext.ConsoleUpdated
		if ts.IsZero() {
			ts = t.now
		}
		out.Timestamp = new(ts.UTC())
		if rec.ConsoleOutput != "" {
			out.Output = new(base64.StdEncoding.EncodeToString([]byte(rec.ConsoleOutput)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
