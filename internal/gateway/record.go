package gateway

import (
	"cmp"
	"net"
	"net/http"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/state"
)

// Recording (Config.Recorder, CloudTrail): every request routed to an
// operation of a service is handed to the Recorder once its answer is
// written — successes, AWS errors of the handler, and refusals after
// routing (malformed or failed signatures, expired presigned URLs, access
// denied), which are decided in serve and all pass through its fail. A
// request that names no operation (an unknown action or path) reaches no
// service and is not recorded, as AWS records none. Recording costs the
// request path one small allocation and the Recorder's Record, which only
// queues.

// newCall starts the record of a request: what the connection tells of
// the caller.
func (g *Gateway) newCall(r *http.Request, start time.Time) *api.Call {
	if g.cfg.Recorder == nil {
		return &api.Call{}
	}
	call := &api.Call{Time: start, SourceIP: remoteIP(r), UserAgent: r.UserAgent(), Host: r.Host, TLS: r.TLS}
	if e := api.VPCEndpointOf(r.Context()); e != nil {
		call.VPCEndpointID = e.ID
	}
	return call
}

// remoteIP is the client's address without its port.
func remoteIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

// routed notes the service and operation a request was routed to, and who
// the request says it is from until its key is resolved.
func (g *Gateway) routed(call *api.Call, rt *route, reqID string, cred credential) {
	if g.cfg.Recorder == nil {
		return
	}
	call.Service, call.Protocol = rt.b.Info, rt.proto
	call.Op = rt.b.load().Operations[rt.opName]
	region := cmp.Or(cred.Region, DefaultRegion)
	account := AccountFor(g.cfg.Accounts, cred.AccessKey)
	call.Info = api.RequestInfo{RequestID: reqID, Service: rt.b.Info.Name, Operation: rt.opName, Region: region,
		AccessKey: cred.AccessKey, Account: account, Caller: "arn:" + state.PartitionOf(region) + ":iam::" + account + ":root", CallerUserID: account}
}

// record hands a routed request's call to the Recorder. An answer that
// failed while it was written (status 500 with no error) is recorded as
// the InternalFailure the client got, or began to get.
func (g *Gateway) record(call *api.Call, status int) {
	if g.cfg.Recorder == nil || call.Op == nil {
		return
	}
	if call.Err == nil && status >= http.StatusInternalServerError {
		call.Err = &codec.Error{Code: "InternalFailure", Message: "internal error", Status: status}
	}
	g.cfg.Recorder.Record(call)
}
