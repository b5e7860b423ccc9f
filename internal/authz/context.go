package authz

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/iampolicy"
)

// requestContext is the request's global condition keys that are real
// here: the caller's address and transport, the region, the time, and the
// tags the request sets (aws:RequestTag/…, aws:TagKeys). The principal's
// own keys (aws:username, aws:PrincipalTag/…) the engine answers from the
// Principal.
func requestContext(req *api.AccessRequest) iampolicy.Context {
	c := iampolicy.Context{}
	if ep := req.Endpoint; ep != nil {
		// Through a VPC endpoint AWS gives the VPC, the endpoint and the
		// caller's private address as aws:VpcSourceIp; aws:SourceIp is
		// then absent.
		c.Set("aws:SourceVpc", ep.VPCID)
		c.Set("aws:SourceVpce", ep.ID)
		if req.SourceIP != "" {
			c.Set("aws:VpcSourceIp", req.SourceIP)
		}
	} else if req.SourceIP != "" {
		c.Set("aws:SourceIp", req.SourceIP)
	}
	c.Set("aws:SecureTransport", strconv.FormatBool(req.SecureTransport))
	c.Set("aws:RequestedRegion", req.Info.Region)
	t := req.Time.UTC()
	c.Set("aws:CurrentTime", t.Format(time.RFC3339))
	c.Set("aws:EpochTime", strconv.FormatInt(t.Unix(), 10))
	tags := requestTags(req.Input)
	if len(tags) > 0 {
		keys := make([]string, 0, len(tags))
		for _, kv := range tags {
			c.Set("aws:RequestTag/"+kv[0], kv[1])
			keys = append(keys, kv[0])
		}
		c.Set("aws:TagKeys", keys...)
	}
	return c
}

// requestTags are the tags an input sets: its Tags member (a list of
// Key/Value) or, for EC2, those of its TagSpecifications.
func requestTags(input any) [][2]string {
	rv := reflect.ValueOf(input)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	var out [][2]string
	if f := rv.FieldByName("Tags"); f.IsValid() {
		out = appendTags(out, f)
	}
	if f := rv.FieldByName("TagSpecifications"); f.IsValid() && f.Kind() == reflect.Slice {
		for i := range f.Len() {
			if spec := f.Index(i); spec.Kind() == reflect.Struct {
				out = appendTags(out, spec.FieldByName("Tags"))
			}
		}
	}
	return out
}

func appendTags(out [][2]string, list reflect.Value) [][2]string {
	if !list.IsValid() || list.Kind() != reflect.Slice {
		return out
	}
	for i := range list.Len() {
		t := list.Index(i)
		if t.Kind() != reflect.Struct {
			return out
		}
		k, v := str(t.FieldByName("Key")), str(t.FieldByName("Value"))
		if k != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func str(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return ""
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return str(v.Elem())
	case v.Kind() == reflect.String:
		return v.String()
	}
	return ""
}

// principalOf is the iampolicy principal an identity is: the account's
// root, an IAM user, or an assumed-role session.
func principalOf(id *api.Identity) iampolicy.Principal {
	p := iampolicy.Principal{ARN: id.ARN, Account: id.Account, UserID: id.UserID, RoleARN: id.RoleARN}
	switch {
	case strings.HasSuffix(id.ARN, ":root"):
		p.Type = iampolicy.Root
	case strings.Contains(id.ARN, ":assumed-role/"):
		p.Type = iampolicy.AssumedRole
	case strings.Contains(id.ARN, ":federated-user/"):
		p.Type = iampolicy.FederatedUser
	case strings.Contains(id.ARN, ":user/"):
		p.Type = iampolicy.User
		p.Username = id.ARN[strings.LastIndexByte(id.ARN, '/')+1:]
	default:
		p.Type = iampolicy.Anonymous
	}
	return p
}
