package ssm

import (
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/state"
)

// The parameter types, tiers and data types.
const (
	typeString       = "String"
	typeStringList   = "StringList"
	typeSecureString = "SecureString"

	tierStandard    = "Standard"
	tierAdvanced    = "Advanced"
	tierIntelligent = "Intelligent-Tiering"

	dataTypeText        = "text"
	dataTypeImage       = "aws:ec2:image"
	dataTypeIntegration = "aws:ssm:integration"
)

// Parameter Store's quotas (AWS's, not adjustable).
const (
	maxVersions         = 100   // versions kept of a parameter
	maxLabelsPerVersion = 10    // labels of one version
	maxLevels           = 15    // levels of a hierarchical name
	maxStandardValue    = 4096  // characters of a standard value
	maxAdvancedValue    = 8192  // characters of an advanced value
	maxStandardParams   = 10000 // standard parameters of a region
	maxAdvancedParams   = 100000
	maxTagsPerResource  = 50
	maxNameARNLength    = 1011 // a name counted with its ARN
)

// paramRecord is one parameter: its versions, oldest first (the last is
// the current one), and its tags, which belong to the parameter, not a
// version.
type paramRecord struct {
	Name     string
	Versions []paramVersion
	Tags     []state.Tag `json:",omitempty"`
}

// paramVersion is one version as PutParameter wrote it.
type paramVersion struct {
	Version int64
	Type    string
	// Value is the value, sealed (secure.go) for a SecureString.
	Value          string
	KeyID          string   `json:",omitempty"`
	Description    string   `json:",omitempty"`
	AllowedPattern string   `json:",omitempty"`
	Tier           string   // Standard or Advanced (Intelligent-Tiering resolved)
	Policies       []policy `json:",omitempty"`
	DataType       string
	Labels         []string `json:",omitempty"`
	Modified       time.Time
	User           string
}

// latest is the current version.
func (r *paramRecord) latest() *paramVersion { return &r.Versions[len(r.Versions)-1] }

// version finds version n.
func (r *paramRecord) version(n int64) *paramVersion {
	for i := range r.Versions {
		if r.Versions[i].Version == n {
			return &r.Versions[i]
		}
	}
	return nil
}

// labelled finds the version that carries label.
func (r *paramRecord) labelled(label string) *paramVersion {
	for i := range r.Versions {
		for _, l := range r.Versions[i].Labels {
			if l == label {
				return &r.Versions[i]
			}
		}
	}
	return nil
}

// expired reports whether the parameter's Expiration policy has deleted it
// by now: AWS deletes it at that time; minicloud hides it from then on and
// deletes it at the next write.
func (r *paramRecord) expired(now time.Time) bool {
	for _, p := range r.latest().Policies {
		if p.Type == policyExpiration && !p.Expires.IsZero() && !now.Before(p.Expires) {
			return true
		}
	}
	return false
}

// params is the parameters of a region, by name; the tier index counts
// each tier's parameters for the quotas.
var params = state.Table[paramRecord]{Service: "ssm", Kind: "parameter", Indexes: []state.Index[paramRecord]{{
	Name:   "tier",
	Values: func(r *paramRecord) []string { return []string{r.latest().Tier} },
	Group:  func(tier string) string { return tier },
}}}

// parameterARN is the ARN of the parameter name in sc: its leading slash
// is not repeated after "parameter/".
func parameterARN(sc state.Scope, name string) string {
	return state.NewARN(sc, "ssm", "parameter/"+strings.TrimPrefix(name, "/")).String()
}
