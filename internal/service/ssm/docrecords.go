package ssm

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/minicloud/minicloud/internal/state"
)

// Documents: the account's own (Command and Session), with their versions
// and default version, and AWS's own, which every account reads and none
// changes. SSM-SessionManagerRunShell, Session Manager's preferences, is
// the account's: until the account writes its own, the default AWS
// creates (preferences.json in AWS's console) answers for it.

//go:embed documents/*.json
var builtinFiles embed.FS

const (
	docCommand = "Command"
	docSession = "Session"

	formatJSON = "JSON"
	formatYAML = "YAML"

	ownerAmazon = "Amazon"

	// SessionPreferences is the document Session Manager reads its
	// preferences from.
	SessionPreferences = "SSM-SessionManagerRunShell"

	maxDocumentVersions = 1000
	maxDocumentSize     = 64 * 1024
)

// docRecord is one document of an account (or AWS's).
type docRecord struct {
	Name        string
	Type        string
	Format      string
	TargetType  string `json:",omitempty"`
	DisplayName string `json:",omitempty"`
	// Owner is the account, or "Amazon" for AWS's documents.
	Owner string
	// Default is the default version's number.
	Default  int
	Versions []docVersion
	Tags     []state.Tag `json:",omitempty"`
}

// docVersion is one version of a document, its content with what was read
// from it.
type docVersion struct {
	Version     int
	VersionName string `json:",omitempty"`
	Content     string
	Created     time.Time
	parsedDoc
}

// parsedDoc is what a document's content says.
type parsedDoc struct {
	SchemaVersion string
	Description   string     `json:",omitempty"`
	Parameters    []docParam `json:",omitempty"`
	Platforms     []string
	SessionType   string `json:",omitempty"`
	Hash          string
}

// docParam is one parameter a document declares.
type docParam struct {
	Name, Type, Description string
	Default                 *string `json:",omitempty"`
}

func (d *docRecord) latest() *docVersion { return &d.Versions[len(d.Versions)-1] }

func (d *docRecord) version(n int) *docVersion {
	for i := range d.Versions {
		if d.Versions[i].Version == n {
			return &d.Versions[i]
		}
	}
	return nil
}

var documents = state.Table[docRecord]{Service: "ssm", Kind: "document"}

// builtinCreated is when AWS's documents were created, as minicloud shows it.
var builtinCreated = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)

// builtins are AWS's documents by name, and the default of the account's
// SSM-SessionManagerRunShell.
var builtins = func() map[string]docRecord {
	out := map[string]docRecord{}
	entries, err := builtinFiles.ReadDir("documents")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		raw, err := builtinFiles.ReadFile("documents/" + e.Name())
		if err != nil {
			panic(err)
		}
		name := strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		typ := docSession
		if name == "AWS-RunShellScript" {
			typ = docCommand
		}
		p, err := parseDocument(string(raw), formatJSON, typ)
		if err != nil {
			panic(fmt.Sprintf("ssm: built-in document %s: %v", name, err))
		}
		out[name] = docRecord{Name: name, Type: typ, Format: formatJSON, Owner: ownerAmazon, Default: 1,
			Versions: []docVersion{{Version: 1, Content: string(raw), Created: builtinCreated, parsedDoc: p}}}
	}
	return out
}()

// awsOwned reports whether a name is AWS's: such names cannot be created.
func awsOwned(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "amazon") || strings.HasPrefix(lower, "amzn")
}

// parseDocument reads a document's content of a format and type: its
// schema version, description, parameters and platforms, and checks what
// Systems Manager checks of it.
func parseDocument(content, format, typ string) (parsedDoc, error) {
	var doc map[string]any
	var err error
	switch format {
	case formatYAML:
		err = yaml.Unmarshal([]byte(content), &doc)
	default:
		err = json.Unmarshal([]byte(content), &doc)
	}
	if err != nil || doc == nil {
		return parsedDoc{}, clientError("InvalidDocumentContent", "The content for the document is not valid.")
	}
	sum := sha256.Sum256([]byte(content))
	p := parsedDoc{Hash: hex.EncodeToString(sum[:])}
	p.SchemaVersion = fmt.Sprint(doc["schemaVersion"])
	if doc["schemaVersion"] == nil {
		return parsedDoc{}, clientError("InvalidDocumentContent", "The content for the document is not valid: schemaVersion is missing.")
	}
	p.Description, _ = doc["description"].(string)
	switch typ {
	case docCommand:
		if !slices.Contains([]string{"1.2", "2.0", "2.2"}, p.SchemaVersion) {
			return parsedDoc{}, clientError("InvalidDocumentSchemaVersion", "Document schema version, %s, is not supported for a Command document. Supported versions: 1.2, 2.0, 2.2.", p.SchemaVersion)
		}
		var plugins []string
		if p.SchemaVersion == "1.2" {
			rc, _ := doc["runtimeConfig"].(map[string]any)
			if len(rc) == 0 {
				return parsedDoc{}, clientError("InvalidDocumentContent", "The content for the document is not valid: runtimeConfig is missing.")
			}
			for k := range rc {
				plugins = append(plugins, k)
			}
		} else {
			steps, _ := doc["mainSteps"].([]any)
			if len(steps) == 0 {
				return parsedDoc{}, clientError("InvalidDocumentContent", "The content for the document is not valid: mainSteps is missing.")
			}
			for _, s := range steps {
				m, _ := s.(map[string]any)
				action, _ := m["action"].(string)
				if action == "" || m["name"] == nil {
					return parsedDoc{}, clientError("InvalidDocumentContent", "The content for the document is not valid: every step needs an action and a name.")
				}
				plugins = append(plugins, action)
			}
		}
		p.Platforms = platformsOf(plugins)
	case docSession:
		if p.SchemaVersion != "1.0" {
			return parsedDoc{}, clientError("InvalidDocumentSchemaVersion", "Document schema version, %s, is not supported for a Session document. Supported versions: 1.0.", p.SchemaVersion)
		}
		p.SessionType, _ = doc["sessionType"].(string)
		if !slices.Contains([]string{"Standard_Stream", "InteractiveCommands", "NonInteractiveCommands", "Port"}, p.SessionType) {
			return parsedDoc{}, clientError("InvalidDocumentContent", "The content for the document is not valid: sessionType %q is not one of Standard_Stream, InteractiveCommands, NonInteractiveCommands, Port.", p.SessionType)
		}
		p.Platforms = []string{"Windows", "Linux", "MacOS"}
	}
	params, _ := doc["parameters"].(map[string]any)
	for name, v := range params {
		m, _ := v.(map[string]any)
		dp := docParam{Name: name}
		dp.Type, _ = m["type"].(string)
		dp.Description, _ = m["description"].(string)
		if def, ok := m["default"]; ok {
			var s string
			switch def.(type) {
			case string:
				s = def.(string)
			default:
				b, _ := json.Marshal(def)
				s = string(b)
			}
			dp.Default = &s
		}
		p.Parameters = append(p.Parameters, dp)
	}
	// AWS lists the parameters in the document's order.
	order := parameterOrder(content, format)
	sort.SliceStable(p.Parameters, func(i, j int) bool {
		a, b := slices.Index(order, p.Parameters[i].Name), slices.Index(order, p.Parameters[j].Name)
		if a != b {
			return a < b
		}
		return p.Parameters[i].Name < p.Parameters[j].Name
	})
	return p, nil
}

// parameterOrder is the order a document's content declares its
// parameters in (a decoded map has none).
func parameterOrder(content, format string) []string {
	var out []string
	if format == formatYAML {
		var root yaml.Node
		if yaml.Unmarshal([]byte(content), &root) != nil || len(root.Content) == 0 {
			return nil
		}
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "parameters" {
				params := m.Content[i+1]
				for j := 0; j+1 < len(params.Content); j += 2 {
					out = append(out, params.Content[j].Value)
				}
			}
		}
		return out
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal([]byte(content), &doc) != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc["parameters"]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		if k, ok := t.(string); ok {
			out = append(out, k)
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return out
		}
	}
	return out
}

// platformsOf are the platforms a Command document's plugins run on.
func platformsOf(plugins []string) []string {
	var linux, windows bool
	for _, pl := range plugins {
		switch pl {
		case "aws:runShellScript":
			linux = true
		case "aws:runPowerShellScript":
			windows = true
		default:
			linux, windows = true, true
		}
	}
	var out []string
	if windows {
		out = append(out, "Windows")
	}
	if linux {
		out = append(out, "Linux", "MacOS")
	}
	return out
}

// convertContent answers content of format in the format asked (the
// document's own when none): JSON and YAML convert into each other.
func convertContent(content, format, want string) (string, string, error) {
	if want == "" || want == format {
		return content, format, nil
	}
	var doc any
	var err error
	if format == formatYAML {
		err = yaml.Unmarshal([]byte(content), &doc)
	} else {
		err = json.Unmarshal([]byte(content), &doc)
	}
	if err != nil {
		return "", "", fmt.Errorf("ssm: stored document content does not parse: %w", err)
	}
	switch want {
	case formatJSON:
		b, err := json.MarshalIndent(doc, "", "  ")
		return string(b), want, err
	case formatYAML:
		b, err := yaml.Marshal(doc)
		return string(b), want, err
	}
	return "", "", clientError("InvalidDocumentOperation", "A document of format %s can't be answered as %s.", format, want)
}
