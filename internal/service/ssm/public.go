package ssm

import (
	"sort"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Public parameters: AWS publishes, under /aws/service/, parameters every
// account can read, which scripts resolve AMI IDs with
// (/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64,
// /aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id,
// /aws/service/debian/release/12/latest/amd64). Here they name the images
// EC2 has built in (ec2.PublicImageParameters), read-only, not stored.

// publicPrefix is where AWS's public parameters live.
const publicPrefix = "/aws/service/"

// publicModified is the public parameters' LastModifiedDate: when the
// built-in images were published.
var publicModified = time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)

// publicARN is a public parameter's ARN: AWS's, with no account.
func publicARN(sc state.Scope, name string) string {
	a := state.NewARN(sc, "ssm", "parameter/"+strings.TrimPrefix(name, "/"))
	a.Account = ""
	return a.String()
}

func publicValue(sc state.Scope, name, value string) ssmapi.Parameter {
	return ssmapi.Parameter{Name: new(name), Type: new(typeString), Value: new(value), Version: new(int64(1)),
		LastModifiedDate: new(publicModified), ARN: new(publicARN(sc, name)), DataType: new(dataTypeText)}
}

// publicParameter answers a public parameter by name (a version selector
// ":1" allowed); ok is false when name is not public. A public name that
// names no parameter answers ParameterNotFound through the caller.
func (s *Service) publicParameter(sc state.Scope, name string) (ssmapi.Parameter, bool) {
	if !strings.HasPrefix(name, publicPrefix) {
		return ssmapi.Parameter{}, false
	}
	base, sel, _ := strings.Cut(name, ":")
	value, ok := s.cfg.Images.PublicImageParameters(sc.Region)[base]
	if !ok || (sel != "" && sel != "1") {
		return ssmapi.Parameter{}, false
	}
	p := publicValue(sc, base, value)
	if sel != "" {
		p.Selector = new(":" + sel)
	}
	return p, true
}

// isPublicPath reports whether a GetParametersByPath path is among the
// public parameters.
func isPublicPath(path string) bool {
	return path+"/" == publicPrefix || strings.HasPrefix(path, publicPrefix)
}

// publicByPath is the public parameters under path, sorted by name.
func (s *Service) publicByPath(sc state.Scope, path string, recursive bool) []ssmapi.Parameter {
	prefix := strings.TrimSuffix(path, "/") + "/"
	var out []ssmapi.Parameter
	for name, value := range s.cfg.Images.PublicImageParameters(sc.Region) {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || (!recursive && strings.Contains(rest, "/")) {
			continue
		}
		out = append(out, publicValue(sc, name, value))
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Name < *out[j].Name })
	return out
}
