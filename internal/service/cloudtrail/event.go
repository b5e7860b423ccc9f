package cloudtrail

import (
	"crypto/tls"
	"encoding/json"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/state"
)

// eventVersion is the record format written: 1.10's fields (AWS writes
// 1.11 today; its additions concern network activity events).
const eventVersion = "1.10"

// event is one record as AWS writes it, in AWS's field order.
type event struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       userIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	VPCEndpointID      string          `json:"vpcEndpointId,omitempty"`
	EventCategory      string          `json:"eventCategory"`
	TLSDetails         *tlsDetails     `json:"tlsDetails,omitempty"`
	Resources          []eventResource `json:"resources,omitempty"`
}

// userIdentity is the record's userIdentity element.
type userIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
	// IdentityProvider is a WebIdentityUser's provider.
	IdentityProvider string `json:"identityProvider,omitempty"`
}

type sessionContext struct {
	SessionIssuer *sessionIssuer   `json:"sessionIssuer,omitempty"`
	Attributes    sessionAttribute `json:"attributes"`
}

type sessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type sessionAttribute struct {
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type tlsDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// eventResource is an entry of the record's resources element (ARNs when
// the resource is named by one, as AWS's records carry them).
type eventResource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}

// entry is a recorded event as the store keeps it: the record's JSON and
// what LookupEvents filters and answers by.
type entry struct {
	Time        time.Time  `json:"t"`
	Account     string     `json:"a"`
	Region      string     `json:"r"`
	ID          string     `json:"i"`
	Name        string     `json:"n"`
	Source      string     `json:"s"`
	ReadOnly    bool       `json:"ro,omitempty"`
	Username    string     `json:"u,omitempty"`
	AccessKeyID string     `json:"k,omitempty"`
	Resources   []resource `json:"res,omitempty"`
	// Event is the record's JSON (in the files it follows the entry's
	// header: see store.go).
	Event json.RawMessage `json:"-"`
}

// timeFormat is eventTime's and creationDate's format.
const timeFormat = "2006-01-02T15:04:05Z"

// newEntry turns an answered call into an event.
func newEntry(c *api.Call) *entry {
	info := &c.Info
	identity := identityOf(c)
	if id, account, ok := webIdentityOf(c); ok {
		identity, info = id, new(c.Info)
		info.Account = account
	}
	svc := c.Service.Name
	readOnly := isReadOnly(svc, info.Operation)
	res := newResourceSet(svc)
	ev := event{
		EventVersion:       eventVersion,
		UserIdentity:       identity,
		EventTime:          c.Time.UTC().Format(timeFormat),
		EventSource:        eventSourceOf(c.Service.EndpointPrefix),
		EventName:          info.Operation,
		AWSRegion:          info.Region,
		SourceIPAddress:    c.SourceIP,
		UserAgent:          c.UserAgent,
		RequestID:          info.RequestID,
		EventID:            state.NewRequestID(),
		ReadOnly:           readOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: info.Account,
		VPCEndpointID:      c.VPCEndpointID,
		EventCategory:      "Management",
		TLSDetails:         tlsOf(c.TLS, c.Host),
	}
	if c.Op != nil {
		ev.RequestParameters = encodeParams(c.Input, c.Op.Input, svc, false, res)
	}
	if c.Err != nil {
		ev.ErrorCode, ev.ErrorMessage = errorCodeOf(c), c.Err.Message
	} else if c.Op != nil && keepsResponse(svc, info.Operation) {
		ev.ResponseElements = encodeParams(c.Output, c.Op.Output, svc, true, res)
	}
	// The record's own resources element carries ARNs only (AWS writes
	// it for a few services); LookupEvents' Resources carry every name.
	for _, r := range res.list {
		if strings.HasPrefix(r.Name, "arn:") {
			ev.Resources = append(ev.Resources, eventResource{ARN: r.Name, AccountID: info.Account, Type: r.Type})
		}
	}
	b, err := json.Marshal(&ev)
	if err != nil {
		// Every field is a string, a bool or JSON the encoder wrote.
		panic("cloudtrail: event: " + err.Error())
	}
	return &entry{Time: c.Time.UTC(), Account: info.Account, Region: info.Region, ID: ev.EventID, Name: ev.EventName,
		Source: ev.EventSource, ReadOnly: readOnly, Username: usernameOf(ev.UserIdentity), AccessKeyID: info.AccessKey,
		Resources: res.list, Event: b}
}

// errorCodeOf is the errorCode AWS writes: EC2's carry "Client." or
// "Server." before the code (Client.UnauthorizedOperation).
func errorCodeOf(c *api.Call) string {
	if c.Protocol != codec.EC2 {
		return c.Err.Code
	}
	if c.Err.Status >= 500 {
		return "Server." + c.Err.Code
	}
	return "Client." + c.Err.Code
}

// identityOf is the userIdentity of the call's principal, told by its ARN:
// the account's root, an IAM user, an assumed-role session, or an AWS
// service acting for the account.
func identityOf(c *api.Call) userIdentity {
	info := &c.Info
	id := userIdentity{PrincipalID: info.CallerUserID, ARN: info.Caller, AccountID: info.Account, AccessKeyID: info.AccessKey}
	arn := strings.SplitN(info.Caller, ":", 6)
	resource := ""
	if len(arn) == 6 {
		resource = arn[5]
	}
	switch {
	case strings.HasSuffix(info.Caller, ".amazonaws.com"):
		return userIdentity{Type: "AWSService", InvokedBy: info.Caller}
	case resource == "root":
		id.Type = "Root"
	case strings.HasPrefix(resource, "user/"):
		id.Type = "IAMUser"
		id.UserName = resource[strings.LastIndexByte(resource, '/')+1:]
	case strings.HasPrefix(resource, "assumed-role/"):
		id.Type = "AssumedRole"
		parts := strings.Split(resource, "/") // assumed-role/<role>/<session>
		role := parts[1]
		issuer := &sessionIssuer{Type: "Role", PrincipalID: strings.SplitN(info.CallerUserID, ":", 2)[0],
			ARN: "arn:" + arn[1] + ":iam::" + arn[4] + ":role/" + role, AccountID: arn[4], UserName: role}
		id.SessionContext = &sessionContext{SessionIssuer: issuer, Attributes: sessionAttribute{MFAAuthenticated: "false"}}
	case strings.HasPrefix(resource, "federated-user/"):
		// GetFederationToken's session: its issuer is the IAM user (or
		// the root user) who asked for it.
		id.Type = "FederatedUser"
		issuer := &sessionIssuer{Type: "IAMUser", ARN: c.Issuer, AccountID: arn[4]}
		if strings.HasSuffix(c.Issuer, ":root") {
			issuer.Type, issuer.PrincipalID = "Root", arn[4]
		} else if i := strings.LastIndexByte(c.Issuer, '/'); i >= 0 {
			issuer.UserName = c.Issuer[i+1:]
		}
		id.SessionContext = &sessionContext{SessionIssuer: issuer, Attributes: sessionAttribute{MFAAuthenticated: "false"}}
	default:
		id.Type = "Unknown"
	}
	if id.SessionContext != nil && !c.Issued.IsZero() {
		id.SessionContext.Attributes.CreationDate = c.Issued.UTC().Format(timeFormat)
	}
	return id
}

// usernameOf is LookupEvents' Username: "root", the user's name, or the
// role session's name.
func usernameOf(id userIdentity) string {
	switch id.Type {
	case "Root":
		return "root"
	case "IAMUser":
		return id.UserName
	case "AssumedRole", "FederatedUser":
		return id.ARN[strings.LastIndexByte(id.ARN, '/')+1:]
	case "WebIdentityUser":
		return id.UserName
	case "AWSService":
		return id.InvokedBy
	}
	return ""
}

// tlsOf is the record's tlsDetails for a TLS connection.
func tlsOf(cs *tls.ConnectionState, host string) *tlsDetails {
	if cs == nil {
		return nil
	}
	v := strings.Replace(tls.VersionName(cs.Version), "TLS 1.", "TLSv1.", 1)
	return &tlsDetails{TLSVersion: v, CipherSuite: tls.CipherSuiteName(cs.CipherSuite), ClientProvidedHostHeader: host}
}
