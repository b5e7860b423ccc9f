package server

import (
	"context"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/service/ssm"
	"github.com/minicloud/minicloud/internal/ssmsession"
)

// sessionManager is Session Manager's data channels as a part of the
// server: started after Systems Manager, whose sessions a previous run left
// open it records ended, and stopped before it and before the instances,
// so that every open session ends cleanly (the plugins get channel_closed,
// the records Terminated) while the store and the instances still run.
type sessionManager struct {
	m   *ssmsession.Manager
	ssm *ssm.Service
}

// newSessionManager makes the data channels over the instance runtime (the
// agent of every instance) and hands them to Systems Manager.
func newSessionManager(cfg Config, dp *dataPlane, ssmSvc *ssm.Service) sessionManager {
	var agent agentport.Agent
	connected := func(context.Context, string, string, string) bool { return false }
	if dp.rt != nil {
		agent = dp.rt
		// A session needs a managed instance, as on AWS: running, with an
		// instance profile whose role allows the SSM core actions, and a
		// network path from inside it to ssm.<region>.amazonaws.com.
		connected = func(ctx context.Context, account, region, id string) bool {
			return dp.rt.Serves(agentport.Target{Account: account, Region: region, InstanceID: id}) &&
				ssmSvc.TargetConnected(ctx, account, region, id) == nil
		}
	}
	m := ssmsession.NewManager(ssmsession.Config{Agent: agent, Logger: cfg.Logger})
	ssmSvc.SetSessions(ssm.SessionConfig{Agent: m, Connected: connected})
	return sessionManager{m: m, ssm: ssmSvc}
}

func (p sessionManager) Start(ctx context.Context) error { return p.ssm.EndStaleSessions(ctx) }

func (p sessionManager) Stop(context.Context) error {
	p.m.Close()
	return nil
}
