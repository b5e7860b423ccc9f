package ssm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// Errors of Parameter Store.

// errNotFound is ParameterNotFound, whose message AWS leaves empty.
func errNotFound() error { return clientError("ParameterNotFound", "") }

func errVersionNotFound(version, name string) error {
	return clientError("ParameterVersionNotFound", "Systems Manager could not find version %s of %s. Verify the version and try again.", version, name)
}

// isCode reports whether err is the AWS error code.
func isCode(err error, code string) bool {
	var ce interface{ ErrorCode() string }
	return errors.As(err, &ce) && ce.ErrorCode() == code
}

var amiRE = lazyregexp.New(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// putPlan is a PutParameter request checked alone, before the transaction.
type putPlan struct {
	in       *ssmapi.PutParameterRequest
	name     string
	dataType string
	policies []policy
	pattern  *regexp.Regexp
}

// checkPut checks a PutParameter request alone: the model's constraints,
// the name, and the members that need no stored state.
func (s *Service) checkPut(ctx context.Context, sc state.Scope, in *ssmapi.PutParameterRequest) (*putPlan, error) {
	var v violations
	v.length(in.Name, "name", 1, 2048)
	if deref(in.Value) == "" {
		v.Add(nil, "value", "Member must have length greater than or equal to 1")
	}
	v.length(in.Description, "description", 0, 1024)
	v.enum(in.Type, "type", parameterTypes)
	v.length(in.KeyId, "keyId", 1, 256)
	v.pattern(in.KeyId, "keyId", keyIDRE, keyIDPattern)
	v.length(in.AllowedPattern, "allowedPattern", 0, 1024)
	v.enum(in.Tier, "tier", parameterTiers)
	v.length(in.Policies, "policies", 1, 4096)
	v.length(in.DataType, "dataType", 0, 128)
	keys, values := splitTags(in.Tags)
	v.tagList(keys, values, "tags", 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := &putPlan{in: in, name: *in.Name, dataType: deref(in.DataType)}
	if err := checkName(sc, p.name); err != nil {
		return nil, err
	}
	if deref(in.Overwrite) && len(in.Tags) > 0 {
		return nil, errValidation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. " +
			"To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if len(in.Tags) > maxTagsPerResource {
		return nil, errTooManyTags()
	}
	if in.KeyId != nil && deref(in.Type) != typeSecureString && in.Type != nil {
		return nil, errValidation("KeyId is required for SecureString type parameter only.")
	}
	if p.dataType == "" {
		p.dataType = dataTypeText
	}
	switch p.dataType {
	case dataTypeText, dataTypeIntegration:
	case dataTypeImage:
		if in.Type != nil && *in.Type != typeString {
			return nil, errValidation("Parameters with the aws:ec2:image data type must be of type String.")
		}
		if !amiRE.MatchString(*in.Value) {
			return nil, errValidation("Parameter value, %s, is not in a valid format for the aws:ec2:image data type. The value must be an AMI ID such as ami-12345abcdeEXAMPLE.", *in.Value)
		}
		ok, err := s.cfg.Images.ImageExists(ctx, sc.Account, sc.Region, *in.Value)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errValidation("Unable to validate the image ID %s: it does not exist or the account can't use it.", *in.Value)
		}
	default:
		return nil, errValidation("The following data type is not supported: %s (Data type names are all lowercase.)", p.dataType)
	}
	if ap := deref(in.AllowedPattern); ap != "" {
		re, err := regexp.Compile("^(?:" + ap + ")$")
		if err != nil {
			return nil, clientError("InvalidAllowedPatternException", "The request does not meet the regular expression requirement. %s", err)
		}
		if !re.MatchString(*in.Value) {
			return nil, clientError("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", ap)
		}
		p.pattern = re
	}
	if in.Policies != nil {
		var err error
		if p.policies, err = parsePolicies(*in.Policies, s.now()); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// tier is the tier a value and its policies are stored in: the one asked
// (Intelligent-Tiering: Standard unless the value or the policies need
// Advanced), never below the parameter's current tier (AWS does not
// downgrade), and the value checked against it.
func (p *putPlan) tier(current string) (string, error) {
	asked := deref(p.in.Tier)
	n := utf8.RuneCountInString(*p.in.Value)
	switch asked {
	case "":
		asked = tierStandard
		if current != "" {
			asked = current
		}
	case tierIntelligent:
		asked = tierStandard
		if n > maxStandardValue || len(p.policies) > 0 || current == tierAdvanced {
			asked = tierAdvanced
		}
	}
	if asked == tierStandard && current == tierAdvanced {
		return "", errValidation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. " +
			"If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
	}
	if asked == tierStandard && n > maxStandardValue {
		return "", errValidation("Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. " +
			"For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
	}
	if n > maxAdvancedValue {
		return "", errValidation("Advanced tier parameters support a maximum parameter value of 8192 characters.")
	}
	if asked == tierStandard && len(p.policies) > 0 {
		return "", errValidation("Standard tier parameters don't support parameter policies. To create a parameter with parameter policies, use the advanced-parameter tier.")
	}
	return asked, nil
}

// PutParameter creates a parameter or, with Overwrite, a new version of it.
func (s *Service) PutParameter(ctx context.Context, in *ssmapi.PutParameterRequest) (*ssmapi.PutParameterResult, error) {
	sc := scopeOf(ctx)
	p, err := s.checkPut(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out ssmapi.PutParameterResult
	err = s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := params.Get(tx, sc, paramKey(p.name))
		if err != nil {
			return err
		}
		if found && r.expired(now) {
			found, r = false, paramRecord{}
		}
		var current string
		typ := deref(in.Type)
		if found {
			if !deref(in.Overwrite) {
				return clientError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
			}
			cur := r.latest()
			current = cur.Tier
			if typ == "" {
				typ = cur.Type
			} else if typ != cur.Type && len(p.name) > 0 && p.name[0] == '/' {
				return clientError("HierarchyTypeMismatchException",
					"Parameter Store doesn't support changing a parameter type in a hierarchy. For example, you can't change a parameter from a String type to a SecureString type. You must create a new, unique parameter.")
			}
		} else if typ == "" {
			return errValidation("A parameter type is required when you create a parameter.")
		}
		if p.dataType == dataTypeImage && typ != typeString {
			return errValidation("Parameters with the aws:ec2:image data type must be of type String.")
		}
		tier, err := p.tier(current)
		if err != nil {
			return err
		}
		if tier != current {
			if err := checkQuota(tx, sc, tier); err != nil {
				return err
			}
		}
		ver := paramVersion{Version: 1, Type: typ, Description: deref(in.Description), AllowedPattern: deref(in.AllowedPattern),
			Tier: tier, Policies: p.policies, DataType: p.dataType, Modified: now, User: api.Request(ctx).Caller}
		if found {
			ver.Version = r.latest().Version + 1
			if len(r.Versions) >= maxVersions {
				if oldest := r.Versions[0]; len(oldest.Labels) > 0 {
					return clientError("ParameterMaxVersionLimitExceeded",
						"You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. "+
							"Move the label to another version of the parameter, and try again.", p.name, oldest.Version)
				}
				r.Versions = slices.Delete(r.Versions, 0, 1)
			}
		} else {
			r = paramRecord{Name: p.name, Tags: tagsOf(in.Tags)}
		}
		ver.Value = *in.Value
		if typ == typeSecureString {
			ver.KeyID = deref(in.KeyId)
			if ver.KeyID == "" {
				ver.KeyID = defaultKeyID
			}
			if ver.Value, err = s.keys.seal(sc.Account, parameterARN(sc, p.name), *in.Value); err != nil {
				return err
			}
		}
		r.Versions = append(r.Versions, ver)
		out = ssmapi.PutParameterResult{Version: new(ver.Version), Tier: new(tier)}
		return params.Put(tx, sc, paramKey(p.name), r)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// checkQuota refuses a parameter past its tier's quota in the region.
func checkQuota(tx state.Tx, sc state.Scope, tier string) error {
	n, err := params.Count(tx, sc, "tier", tier)
	if err != nil {
		return err
	}
	switch {
	case tier == tierStandard && n >= maxStandardParams:
		return clientError("ParameterLimitExceeded", "You have reached the maximum number of standard parameters for this AWS account and Region (%d). "+
			"To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier (charges apply).", maxStandardParams)
	case tier == tierAdvanced && n >= maxAdvancedParams:
		return clientError("ParameterLimitExceeded", "You have reached the maximum number of advanced parameters for this AWS account and Region (%d).", maxAdvancedParams)
	}
	return nil
}

// find loads the parameter ref names, nil when there is none (or it has
// expired).
func (s *Service) find(tx state.Tx, sc state.Scope, ref reference, now time.Time) (*paramRecord, error) {
	r, ok, err := params.Get(tx, sc, paramKey(ref.name))
	if err != nil || !ok || r.expired(now) {
		return nil, err
	}
	return &r, nil
}

// pick is the version ref selects of r: the current one, a version or the
// one with a label.
func pick(r *paramRecord, ref reference) (*paramVersion, error) {
	switch {
	case ref.version > 0:
		if v := r.version(ref.version); v != nil {
			return v, nil
		}
		return nil, errVersionNotFound(fmt.Sprint(ref.version), r.Name)
	case ref.label != "":
		if v := r.labelled(ref.label); v != nil {
			return v, nil
		}
		return nil, errVersionNotFound(ref.label, r.Name)
	}
	return r.latest(), nil
}

// show is a version as GetParameter answers it: a SecureString's value
// decrypted only when asked.
func (s *Service) show(sc state.Scope, r *paramRecord, v *paramVersion, decrypt bool, selector string) (ssmapi.Parameter, error) {
	arn := parameterARN(sc, r.Name)
	value := v.Value
	if decrypt && v.Type == typeSecureString {
		var err error
		if value, err = s.keys.open(sc.Account, arn, v.Value); err != nil {
			return ssmapi.Parameter{}, err
		}
	}
	p := ssmapi.Parameter{Name: new(r.Name), Type: new(v.Type), Value: new(value), Version: new(v.Version),
		LastModifiedDate: new(v.Modified), ARN: new(arn), DataType: new(v.DataType)}
	if selector != "" {
		p.Selector = new(selector)
	}
	return p, nil
}

// get answers one name of GetParameter(s): found is false for a name that
// names no parameter (GetParameters lists it as invalid).
func (s *Service) get(tx state.Tx, sc state.Scope, name string, decrypt bool, now time.Time) (ssmapi.Parameter, error) {
	if pub, ok := s.publicParameter(sc, name); ok {
		return pub, nil
	}
	if err := checkReference(name); err != nil {
		return ssmapi.Parameter{}, err
	}
	ref, ok := parseReference(sc, name)
	if !ok {
		return ssmapi.Parameter{}, errNotFound()
	}
	r, err := s.find(tx, sc, ref, now)
	if err != nil {
		return ssmapi.Parameter{}, err
	}
	if r == nil {
		return ssmapi.Parameter{}, errNotFound()
	}
	v, err := pick(r, ref)
	if err != nil {
		return ssmapi.Parameter{}, err
	}
	p, err := s.show(sc, r, v, decrypt, ref.selector)
	if !ref.byARN {
		// The name as asked: "/a" for a parameter put as "a".
		p.Name = new(ref.name)
	}
	return p, err
}

// GetParameter answers one parameter, or a version of it.
func (s *Service) GetParameter(ctx context.Context, in *ssmapi.GetParameterRequest) (*ssmapi.GetParameterResult, error) {
	var v violations
	v.length(in.Name, "name", 1, 2048)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	var out ssmapi.GetParameterResult
	err := s.store.View(ctx, func(tx state.Tx) error {
		p, err := s.get(tx, sc, *in.Name, deref(in.WithDecryption), now)
		out.Parameter = &p
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetParameters answers up to ten parameters; the names that name none
// are listed as invalid.
func (s *Service) GetParameters(ctx context.Context, in *ssmapi.GetParametersRequest) (*ssmapi.GetParametersResult, error) {
	var v violations
	v.listLen(in.Names, "names", 1, 10)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	out := ssmapi.GetParametersResult{Parameters: []ssmapi.Parameter{}, InvalidParameters: []string{}}
	err := s.store.View(ctx, func(tx state.Tx) error {
		seen := map[string]bool{}
		for _, name := range in.Names {
			if seen[name] {
				continue
			}
			seen[name] = true
			p, err := s.get(tx, sc, name, deref(in.WithDecryption), now)
			switch {
			case isCode(err, "ParameterNotFound"), isCode(err, "ParameterVersionNotFound"):
				out.InvalidParameters = append(out.InvalidParameters, name)
			case err != nil:
				return err
			default:
				out.Parameters = append(out.Parameters, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteParameter deletes a parameter with all its versions.
func (s *Service) DeleteParameter(ctx context.Context, in *ssmapi.DeleteParameterRequest) (*ssmapi.DeleteParameterResult, error) {
	var v violations
	v.length(in.Name, "name", 1, 2048)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	err := s.store.Update(ctx, func(tx state.Tx) error {
		ok, err := s.delete(tx, sc, *in.Name, now)
		if err == nil && !ok {
			err = errNotFound()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.DeleteParameterResult{}, nil
}

// delete deletes the parameter name names, reporting whether there was one.
func (s *Service) delete(tx state.Tx, sc state.Scope, name string, now time.Time) (bool, error) {
	ref, ok := parseReference(sc, name)
	if !ok || ref.selector != "" || checkReference(name) != nil {
		return false, nil
	}
	r, err := s.find(tx, sc, ref, now)
	if err != nil || r == nil {
		return false, err
	}
	return true, params.Delete(tx, sc, paramKey(r.Name))
}

// DeleteParameters deletes up to ten parameters; the names that name none
// are listed as invalid.
func (s *Service) DeleteParameters(ctx context.Context, in *ssmapi.DeleteParametersRequest) (*ssmapi.DeleteParametersResult, error) {
	var v violations
	v.listLen(in.Names, "names", 1, 10)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	var out ssmapi.DeleteParametersResult
	err := s.store.Update(ctx, func(tx state.Tx) error {
		out = ssmapi.DeleteParametersResult{DeletedParameters: []string{}, InvalidParameters: []string{}}
		for _, name := range in.Names {
			ok, err := s.delete(tx, sc, name, now)
			if err != nil {
				return err
			}
			if ok {
				out.DeletedParameters = append(out.DeletedParameters, name)
			} else {
				out.InvalidParameters = append(out.InvalidParameters, name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
