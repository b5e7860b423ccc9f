package route53

import "context"

// FlushQueryLogs writes the queued query logs now (the server's ticker
// does it every second once started).
func (s *Service) FlushQueryLogs(ctx context.Context) { s.flushQueryLogs(ctx) }
